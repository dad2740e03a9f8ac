from django import forms

from .models import Membership


class InviteForm(forms.Form):
    email = forms.EmailField(label="Adresse électronique professionnelle")
    first_name = forms.CharField(label="Prénom", max_length=100)
    last_name = forms.CharField(label="Nom", max_length=100)
    role = forms.ChoiceField(label="Rôle", choices=Membership.Role.choices, initial=Membership.Role.REFERENT)
    job_title = forms.CharField(label="Fonction", max_length=150, required=False)

    def __init__(self, *args, structure=None, **kwargs):
        super().__init__(*args, **kwargs)
        if structure is not None:
            from .policies import grantable_roles

            allowed = set(grantable_roles(structure))
            self.fields["role"].choices = [(v, label) for v, label in Membership.Role.choices if v in allowed]
