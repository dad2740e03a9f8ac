from django.core.exceptions import ValidationError
from stdnum.fr import siret as stdnum_siret


def validate_siret(value):
    """SIRET: 14 digits with a valid Luhn key (La Poste's 356000000 exception included)."""
    compact = (value or "").replace(" ", "")
    if not compact.isdigit() or len(compact) != 14:
        raise ValidationError("Le SIRET doit comporter 14 chiffres.", code="siret_length")
    if not stdnum_siret.is_valid(compact):
        raise ValidationError("Ce SIRET n'est pas valide (clé de contrôle incorrecte).", code="siret_key")
