"""``manage.py demo_logins``: the demonstration accounts, their role and the shared password."""

from django.core.management.base import BaseCommand

from spie.core import demo


class Command(BaseCommand):
    help = "Affiche l'adresse de la démonstration et les comptes de démonstration (rôle, structure, mot de passe)."

    def add_arguments(self, parser):
        parser.add_argument("--url", default=demo.DEMO_URL, help="adresse affichée (défaut : %(default)s)")

    def handle(self, *args, **options):
        from spie.core import demo_employers
        from spie.network.models import User

        names = {spec.key: spec.name for spec in demo.STRUCTURES}
        emails = [account.email for account in demo.DEMO_ACCOUNTS] + [demo_employers.COMPANY_EMAIL,
                                                                       demo.SUPERUSER_EMAIL]
        present = set(User.objects.filter(email__in=emails).values_list("email", flat=True))

        rows = []
        for account in demo.DEMO_ACCOUNTS:
            rows.append((
                account.email,
                f"{account.role_label} — {names[account.structure_key]}",
                f"{account.first_name} {account.last_name} : {account.summary}",
            ))
        rows.append((
            demo_employers.COMPANY_EMAIL,
            f"Recruteuse — espace entreprise de « {demo_employers.COMPANY_NAME} »",
            "Sylvie Carmes : ses offres, les profils suggérés (anonymes), les mises en relation à traiter",
        ))
        rows.append((demo.SUPERUSER_EMAIL, "Superutilisateur — administration technique (/admin/)", ""))

        lines = [
            "SPIE Haute-Garonne — démonstration (données fictives)",
            "",
            f"Adresse : {options['url']}",
            f"Mot de passe de tous les comptes : {demo.DEMO_PASSWORD}",
            "Second facteur (TOTP) désactivé en mode démonstration (make run : SPIE_DEMO_SKIP_2FA=1).",
            "",
            "Comptes de démonstration :",
        ]
        width = max(len(email) for email, *_ in rows)
        for email, role, detail in rows:
            missing = "" if email in present else "  (absent : lancez seed_demo)"
            lines.append(f"  {email.ljust(width)}  {role}{missing}")
            if detail:
                lines.append(f"  {' ' * width}  {detail}")
        lines += [
            "",
            "Les autres professionnels fictifs ont le même mot de passe (liste : /admin/).",
        ]
        inner = max(len(line) for line in lines)
        out = ["╔" + "═" * (inner + 2) + "╗"]
        out += [f"║ {line.ljust(inner)} ║" for line in lines]
        out.append("╚" + "═" * (inner + 2) + "╝")
        self.stdout.write("\n".join(out))
        if not present:
            self.stdout.write(self.style.WARNING(
                "Aucun compte de démonstration en base : python manage.py seed_demo"
            ))
