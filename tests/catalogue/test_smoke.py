from spie.catalogue.search import derive_keys  # noqa: F401


def test_provider_fixture_publishes_an_action_with_search_keys(provider):
    action = provider["action"]
    assert action.is_visible
    assert " confianc " in action.search_text  # stemmed: "confiance" -> "confianc"
    assert action.lat is not None and action.is_in_person and not action.is_remote
