import pytest
from django.contrib import admin

from spie.core.models import AccessLog
from tests.network.factories import make_professional
from tests.people.factories import PersonFactory


@pytest.fixture
def entry(db):
    user = make_professional()
    return AccessLog.objects.create(user=user, person=PersonFactory(), section=AccessLog.Section.RECORD)


def test_entries_cannot_be_modified(entry):
    entry.reason = "changed"
    with pytest.raises(PermissionError):
        entry.save()
    with pytest.raises(PermissionError):
        AccessLog.objects.filter(pk=entry.pk).update(reason="x")


def test_entries_cannot_be_deleted(entry):
    with pytest.raises(PermissionError):
        entry.delete()
    with pytest.raises(PermissionError):
        AccessLog.objects.all().delete()
    assert AccessLog.objects.filter(pk=entry.pk).exists()


def test_admin_is_read_only(entry, rf):
    model_admin = admin.site._registry[AccessLog]
    request = rf.get("/")
    request.user = entry.user
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request, entry)
    assert not model_admin.has_delete_permission(request, entry)
