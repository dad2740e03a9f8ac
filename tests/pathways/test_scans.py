"""The signed scan: checked by declared type AND content (magic bytes) AND size, stored under
MEDIA_ROOT with a name of our own, served only through the contract read policy, logged."""

from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from spie.core.models import AccessLog
from spie.pathways import scans, services
from spie.pathways.models import EngagementContract
from tests.conftest import login_client
from tests.people.factories import PersonFactory, add_to_group

from .conftest import membership_of
from .factories import days_ago, make_contract

PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 64


def upload(content, content_type="application/pdf", name="contrat signé de Camille.pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.mark.parametrize(
    ("content", "content_type", "extension"),
    [(PDF, "application/pdf", "pdf"), (PNG, "image/png", "png"), (JPEG, "image/jpeg", "jpg")],
)
def test_good_files(content, content_type, extension):
    assert scans.validate_scan(upload(content, content_type)).extension == extension


@pytest.mark.parametrize(
    ("content", "content_type", "message"),
    [
        (b"MZ\x90\x00 not a pdf at all", "application/pdf", "n'est pas celui d'un PDF"),  # bad magic bytes
        (b"<html><script>alert(1)</script>", "application/pdf", "n'est pas celui d'un PDF"),
        (PDF, "image/png", r"ne correspond pas à son contenu \(contenu réel : PDF\)"),
        (PNG, "application/pdf", "contenu réel : PNG"),
        (PDF, "text/html", "Format non accepté"),
        (PDF, "", "Format non accepté"),
        (b"", "application/pdf", "vide"),
        (b"%PDF-" + b"0" * (5 * 1024 * 1024), "application/pdf", "trop volumineux"),
    ],
)
def test_bad_files(content, content_type, message):
    with pytest.raises(ValidationError, match=message):
        scans.validate_scan(upload(content, content_type))


def test_exactly_5_mb_is_accepted():
    content = b"%PDF-" + b"0" * (5 * 1024 * 1024 - 5)
    assert scans.validate_scan(upload(content)).label == "PDF"


@pytest.fixture
def draft(world):
    return make_contract(world["person"], world["referent"], world["ref_structure"])


def sign_page(client, person, contract, scan):
    return client.post(
        reverse("pathways:contract_sign", args=[person.pk, contract.version]),
        {"person_signed_on": days_ago(1).isoformat(), "referent_signed_on": days_ago(0).isoformat(), "scan": scan},
    )


def test_sign_page_with_a_good_pdf_stores_it_outside_the_web_root(world, draft):
    person = world["person"]
    response = sign_page(login_client(world["referent"]), person, draft, upload(PDF))
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.status == EngagementContract.Status.SIGNED
    assert draft.signed_by_person_on == days_ago(1)
    name = draft.signed_scan.name
    assert name.startswith("contracts/") and name.endswith(".pdf")
    assert "Camille" not in name and "sign" not in name  # our own name, nothing of the upload's
    stored = Path(draft.signed_scan.path)
    assert stored.read_bytes() == PDF
    assert Path(settings.MEDIA_ROOT) in stored.parents


@pytest.mark.parametrize(
    ("scan", "message"),
    [
        (upload(b"GIF89a fake", "application/pdf"), "n&#x27;est pas celui d&#x27;un PDF"),
        (upload(b"%PDF-" + b"0" * (5 * 1024 * 1024 + 1)), "trop volumineux"),
    ],
)
def test_sign_page_refuses_a_bad_scan_and_signs_nothing(world, draft, scan, message):
    response = sign_page(login_client(world["referent"]), world["person"], draft, scan)
    assert response.status_code == 200
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert draft.status == EngagementContract.Status.DRAFT
    assert not draft.signed_scan
    assert not list(Path(settings.MEDIA_ROOT).rglob("*.pdf"))


def test_scan_attached_after_signature_once(world, draft):
    ref = membership_of(world["referent"])
    draft.objectives = [{"theme": "", "label": "Objectif", "source": "free"}]
    draft.save()
    contract = services.sign_contract(draft, ref, person_signed_on=days_ago(2), referent_signed_on=days_ago(2))
    client = login_client(world["referent"])
    url = reverse("pathways:contract_scan_upload", args=[world["person"].pk, contract.version])
    response = client.post(url, {"scan": upload(b"not an image", "image/png", "scan.png")}, follow=True)
    assert "contenu du fichier" in response.content.decode()
    client.post(url, {"scan": upload(PNG, "image/png", "scan.png")})
    contract.refresh_from_db()
    assert contract.signed_scan.name.endswith(".png")
    with pytest.raises(ValidationError, match="déjà joint"):
        services.attach_scan(contract, ref, upload(PDF))
    assert login_client(world["member"]).post(url, {"scan": upload(PDF)}).status_code == 403


@pytest.fixture
def signed_with_scan(world, draft):
    sign_page(login_client(world["referent"]), world["person"], draft, upload(PDF))
    draft.refresh_from_db()
    return draft


@pytest.mark.parametrize("who", ["referent", "member", "officer"])
def test_scan_download_for_those_who_read_the_contract_is_logged(world, signed_with_scan, who):
    person = world["person"]
    before = AccessLog.objects.count()
    url = reverse("pathways:contract_scan", args=[person.pk, signed_with_scan.version])
    response = login_client(world[who]).get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert AccessLog.objects.count() == before + 1
    row = AccessLog.objects.order_by("-id").first()
    assert (row.user, row.person, row.section) == (world[who], person, AccessLog.Section.CONTRACT)


@pytest.mark.parametrize(("who", "status"), [("outsider", 403), ("coordinator", 403), ("admin_ref", 200),
                                             ("gers_officer", 404)])
def test_scan_download_policy(world, signed_with_scan, who, status):
    response = login_client(world[who]).get(
        reverse("pathways:contract_scan", args=[world["person"].pk, signed_with_scan.version])
    )
    assert response.status_code == status
    if status != 200:
        assert PDF not in response.content


def test_scan_of_another_person_through_my_person_url_is_404(world, signed_with_scan):
    mine = PersonFactory(territory=world["territory"])
    add_to_group(mine, world["outsider"], "referent")
    client = login_client(world["outsider"])
    response = client.get(reverse("pathways:contract_scan", args=[mine.pk, signed_with_scan.version]))
    assert response.status_code == 404


def test_no_scan_is_404(world, draft):
    response = login_client(world["referent"]).get(
        reverse("pathways:contract_scan", args=[world["person"].pk, draft.version])
    )
    assert response.status_code == 404


def test_media_is_not_served_by_a_url(world, signed_with_scan):
    client = login_client(world["referent"])
    assert client.get("/media/" + signed_with_scan.signed_scan.name).status_code == 404
    assert client.get("/" + signed_with_scan.signed_scan.name).status_code == 404
