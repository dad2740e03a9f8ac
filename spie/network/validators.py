from django.core.exceptions import ValidationError
from stdnum.fr import siret as stdnum_siret


def validate_phone(value):
    """A French or international phone number: 10 digits (0X XX XX XX XX) or + and 8 to 15 digits,
    spaces, dots and dashes allowed."""
    compact = "".join(ch for ch in (value or "") if ch not in " .-")
    if not compact:
        return
    digits = compact[1:] if compact.startswith("+") else compact
    if not digits.isdigit() or not (
        (compact.startswith("+") and 8 <= len(digits) <= 15) or (compact.startswith("0") and len(digits) == 10)
    ):
        raise ValidationError("Indiquez un numéro de téléphone valide (10 chiffres, par exemple 05 61 00 00 00).",
                              code="phone")


def validate_siret(value):
    """SIRET: 14 digits with a valid Luhn key (La Poste's 356000000 exception included)."""
    compact = (value or "").replace(" ", "")
    if not compact.isdigit() or len(compact) != 14:
        raise ValidationError("Le SIRET doit comporter 14 chiffres.", code="siret_length")
    if not stdnum_siret.is_valid(compact):
        raise ValidationError("Ce SIRET n'est pas valide (clé de contrôle incorrecte).", code="siret_key")
