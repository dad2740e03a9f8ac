"""Import a CSV or XLSX file from the command line, with the same services as the pages.

    manage.py import_file PATH --kind persons --structure-id N --user-email E [--match-key internal_id] [--commit]

The columns are mapped automatically from their names (or the structure's saved mapping for
this layout). Without ``--commit`` the file is only validated (the preview stays on the
platform to review). The last line sums it up:

    IMPORT rows=… valid=… errors=… created=… updated=… unchanged=… validate_s=… commit_s=…
"""

import os
import time

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.core.management.base import BaseCommand, CommandError

from spie.imports import mapping as m
from spie.imports import services
from spie.imports.models import ImportKind, ImportStatus, MatchKey
from spie.network.models import Membership


class Command(BaseCommand):
    help = "Importe un fichier CSV ou XLSX (personnes, professionnels, rattachements)."

    def add_arguments(self, parser):
        parser.add_argument("path")
        parser.add_argument("--kind", choices=ImportKind.values, default=ImportKind.PERSONS)
        parser.add_argument("--structure-id", type=int, required=True)
        parser.add_argument("--user-email", required=True, help="Administrateur de la structure qui importe.")
        parser.add_argument("--match-key", choices=MatchKey.values)
        parser.add_argument("--commit", action="store_true", help="Importer les lignes valides (sinon : aperçu).")

    def handle(self, *args, path, kind, structure_id, user_email, match_key, commit, **options):
        membership = (
            Membership.objects.filter(structure_id=structure_id, user__email__iexact=user_email, is_active=True,
                                      role=Membership.Role.ADMIN)
            .select_related("user", "structure__territory").first()
        )
        if membership is None:
            raise CommandError(f"{user_email} n'est pas administrateur actif de la structure {structure_id}.")
        if not os.path.exists(path):
            raise CommandError(f"Fichier introuvable : {path}")
        last = {"at": 0.0}

        def progress(step, done, total):
            now = time.monotonic()
            if done == total or now - last["at"] > 2:
                last["at"] = now
                label = "vérification" if step == "validate" else "import"
                self.stdout.write(f"{label} : {done}/{total} lignes")

        try:
            with open(path, "rb") as handle:
                job = services.create_job(membership=membership, kind=kind, uploaded_file=File(handle),
                                          name=os.path.basename(path))
            mapping = job.mapping
            self.stdout.write("Correspondance : " + ", ".join(
                f"{m.target_map(kind)[t].label} ← « {h} »" for t, h in mapping.items()))
            job = services.set_mapping(job=job, membership=membership, mapping=mapping,
                                       match_key=match_key or job.match_key, enqueue=False)
            job = services.run_validation(job.pk, progress=progress)
            if job.status != ImportStatus.READY:
                raise CommandError(job.error_message or "La vérification a échoué.")
            for row in job.rows.filter(action="error").order_by("line")[:20]:
                for message in services.error_messages(row):
                    self.stdout.write(f"  {message}")
            errors_found = job.error_count
            if job.error_count > 20:
                self.stdout.write(f"  … et d'autres lignes en erreur ({job.error_count} au total)")
            if commit and not job.to_commit_count:
                self.stdout.write("Aucune ligne à créer ou à mettre à jour : rien à importer.")
            elif commit:
                if job.error_count:
                    dropped = job.rows.filter(action="error").update(action="dropped")
                    services.refresh_counts(job)
                    self.stdout.write(f"{dropped} ligne(s) en erreur écartée(s).")
                job = services.request_commit(job=job, membership=membership, enqueue=False)
                job = services.run_commit(job.pk, membership.user_id, progress=progress)
                if job.status != ImportStatus.COMMITTED:
                    raise CommandError(job.error_message)
        except (ValidationError, PermissionDenied) as exc:
            raise CommandError(" ".join(getattr(exc, "messages", [str(exc)]))) from exc
        committed = job.status == ImportStatus.COMMITTED
        self.stdout.write(
            f"IMPORT rows={job.rows_count} valid={job.valid_count} errors={errors_found} "
            f"created={job.create_count if committed else 0} updated={job.update_count if committed else 0} "
            f"unchanged={job.unchanged_count} validate_s={job.validate_seconds or 0:.2f} "
            f"commit_s={job.commit_seconds or 0:.2f}"
        )
