from django.core.exceptions import ValidationError
from stdnum.fr import nir as stdnum_nir


def validate_nir(value):
    """NIR (numéro de sécurité sociale): 15 characters with a valid key (Corsica 2A/2B too)."""
    compact = (value or "").replace(" ", "").upper()
    if len(compact) != 15:
        raise ValidationError("Le NIR doit comporter 15 caractères (13 + clé de 2 chiffres).", code="nir_length")
    if not stdnum_nir.is_valid(compact):
        raise ValidationError("Ce NIR n'est pas valide (clé de contrôle incorrecte).", code="nir_key")
