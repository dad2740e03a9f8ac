"""Existing persons get their place in the pathway from their orientations and contracts."""

from django.db import migrations


def backfill(apps, schema_editor):
    Person = apps.get_model("people", "Person")
    Orientation = apps.get_model("pathways", "Orientation")
    EngagementContract = apps.get_model("pathways", "EngagementContract")
    signed = EngagementContract.objects.filter(status="signed").values("person_id")
    decided = Orientation.objects.filter(status="decided").values("person_id")
    Person.objects.filter(pk__in=signed).update(status="in_pathway")
    Person.objects.filter(pk__in=decided, status="to_orient").update(status="oriented")


class Migration(migrations.Migration):
    dependencies = [
        ("followup", "0001_initial"),
        ("pathways", "0001_initial"),
        ("people", "0004_person_exited_on_person_status"),
    ]

    operations = [migrations.RunPython(backfill, migrations.RunPython.noop)]
