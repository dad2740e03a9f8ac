import pytest
from django import forms

from spie.referentials.forms import CommuneField
from tests.referentials.factories import make_communes


class AddressForm(forms.Form):
    commune = CommuneField()


class OptionalForm(forms.Form):
    commune = CommuneField(required=False, departement="31")


@pytest.fixture
def communes(db):
    return make_communes()


def clean(value, form_class=AddressForm):
    form = form_class(data={"commune": value})
    if form.is_valid():
        return form.cleaned_data["commune"], []
    return None, form.errors["commune"]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("31555", "toulouse"),
        ("Toulouse (31000)", "toulouse"),
        ("Toulouse (31400)", "toulouse"),
        ("Toulouse (31555)", "toulouse"),
        ("Toulouse (31)", "toulouse"),
        ("Toulouse", "toulouse"),
        ("  TOULOUSE ", "toulouse"),
        ("toulousé", "toulouse"),
        ("31000", "toulouse"),
        ("saint jean", "saint_jean"),
        ("Saint-Jean (31240)", "saint_jean"),
        ("Montesquieu (47130)", "montesquieu_47"),
        ("Montesquieu (34)", "montesquieu_34"),
        ("Castelnau", "castelnau_31"),
        ("Castelnau (82170)", "castelnau_82"),
        ("2A004", "ajaccio"),
        ("ajaccio (20090)", "ajaccio"),
    ],
)
def test_commune_field_accepts(communes, typed, expected):
    commune, errors = clean(typed)
    assert errors == []
    assert commune == communes[expected]


def test_name_shared_outside_the_territory_is_ambiguous(communes):
    commune, errors = clean("Montesquieu")
    assert commune is None
    assert errors[0].startswith("Plusieurs communes correspondent, précisez le code postal")
    assert "Montesquieu (34320)" in errors[0]
    assert "Montesquieu (47130)" in errors[0]


def test_territory_setting_decides_between_homonyms(communes, settings):
    settings.SPIE_TERRITORY = "82"
    assert clean("Castelnau")[0] == communes["castelnau_82"]


def test_postal_code_shared_by_several_communes(communes):
    commune, errors = clean("31290")
    assert commune is None
    assert "Plusieurs communes ont le code postal 31290" in errors[0]
    assert "Villefranche-de-Lauragais (31290)" in errors[0]
    assert clean("Avignonet-Lauragais (31290)")[0] == communes["avignonet"]


@pytest.mark.parametrize("typed", ["Atlantis", "99999", "Toulouse (75000)", "123", "--"])
def test_unknown_commune(communes, typed):
    commune, errors = clean(typed)
    assert commune is None
    assert errors[0].startswith(f"Commune introuvable : « {typed} »")


def test_required_and_optional(communes):
    assert clean("")[1] == ["Ce champ est obligatoire."]
    assert clean("", OptionalForm) == (None, [])


def test_departement_restriction(communes):
    assert clean("Toulouse", OptionalForm)[0] == communes["toulouse"]
    assert clean("Montesquieu (47130)", OptionalForm)[1][0].startswith("Commune introuvable")
    assert clean("Castelnau", OptionalForm)[0] == communes["castelnau_31"]


def test_widget_renders_datalist_and_htmx_attributes(communes):
    html = str(OptionalForm()["commune"])
    assert 'list="id_commune-communes"' in html
    assert 'hx-get="/referentiels/communes/options/?field=commune&amp;dep=31"' in html
    assert 'hx-trigger="input changed delay:250ms"' in html
    assert 'hx-target="#id_commune-communes"' in html
    assert '<datalist id="id_commune-communes">' in html
    assert 'autocomplete="off"' in html


def test_prefix_and_initial_values(communes):
    form = AddressForm(prefix="home", initial={"commune": communes["toulouse"]})
    html = str(form["commune"])
    assert 'value="Toulouse (31000)"' in html
    assert 'list="id_home-commune-communes"' in html
    assert "field=home-commune" in html
    # A ModelForm gives the foreign key's value (the INSEE code) as initial.
    assert 'value="Toulouse (31000)"' in str(AddressForm(initial={"commune": "31555"})["commune"])


def test_has_changed(communes):
    toulouse = communes["toulouse"]
    unchanged = AddressForm(data={"commune": "Toulouse (31000)"}, initial={"commune": toulouse.pk})
    assert not unchanged.has_changed()
    changed = AddressForm(data={"commune": "Tournefeuille"}, initial={"commune": toulouse})
    assert changed.has_changed()
