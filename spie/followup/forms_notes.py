"""Forms of the notes page: writing a note (with up to 3 checked attachments), the list filters."""

from django import forms
from django.utils import timezone

from . import attachments as attachment_checks
from .models import Note


class DateInput(forms.DateInput):
    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked by :mod:`spie.followup.attachments`."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": attachment_checks.ACCEPT_ATTRIBUTE}))
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if not data:
            return []
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files]


CLASS_HELP = {
    Note.Confidentiality.GROUP: "tout le groupe de suivi",
    Note.Confidentiality.STRUCTURE: "les professionnels de votre structure qui ont accès au dossier",
    Note.Confidentiality.HEALTH: "seuls ceux qui ont accès à la section santé",
}


class NoteForm(forms.Form):
    confidentiality = forms.ChoiceField(
        label="Qui peut lire cette note",
        error_messages={"invalid_choice": "Vous ne pouvez pas écrire une note de cette confidentialité dans ce "
                                          "dossier : choisissez parmi les options proposées."},
    )
    kind = forms.ChoiceField(label="Nature", choices=Note.Kind.choices, initial=Note.Kind.OBSERVATION)
    is_contact = forms.BooleanField(label="Contact avec la personne", required=False,
                                    help_text="Cochez si la personne a été vue ou jointe : la date du dernier "
                                              "contact est mise à jour.")
    contact_on = forms.DateField(label="Date du contact", required=False, widget=DateInput())
    body = forms.CharField(label="Note", widget=forms.Textarea(attrs={"rows": 6}), max_length=20000,
                           error_messages={"required": "Écrivez la note."})

    def __init__(self, *args, classes, with_files=True, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["confidentiality"].choices = [
            (c, f"{Note.Confidentiality(c).label} — {CLASS_HELP[c]}") for c in classes
        ]
        self.fields["contact_on"].initial = timezone.localdate()
        if with_files:
            self.fields["attachments"] = MultipleFileField(
                label="Pièces jointes", required=False, help_text=attachment_checks.HELP_TEXT
            )

    def clean_contact_on(self):
        value = self.cleaned_data.get("contact_on")
        if value and value > timezone.localdate():
            raise forms.ValidationError("La date du contact ne peut pas être dans le futur.")
        return value

    def clean_attachments(self):
        files = self.cleaned_data.get("attachments") or []
        attachment_checks.validate_attachments(files)
        return files

    def clean(self):
        data = super().clean()
        if self.errors.get("attachments"):
            # The browser cannot keep the chosen files: say so next to the error.
            self.add_error("attachments", "Le texte de la note est conservé : joignez à nouveau des fichiers valides.")
        return data


class NoteFilterForm(forms.Form):
    kind = forms.ChoiceField(label="Nature", required=False, choices=[("", "Toutes"), *Note.Kind.choices])
    confidentiality = forms.ChoiceField(label="Confidentialité", required=False,
                                        choices=[("", "Toutes"), *Note.Confidentiality.choices])

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("auto_id", "filtre_%s")  # the note form on the same page uses the default ids
        super().__init__(*args, **kwargs)

    def filters(self):
        if not self.is_valid():
            return {}
        return {k: v for k, v in self.cleaned_data.items() if v}
