"""Forms of the import pages: upload, column mapping, fixing a row."""

from django import forms

from . import mapping as m
from . import services
from .models import ImportKind, MatchKey


class UploadForm(forms.Form):
    kind = forms.ChoiceField(label="Le fichier contient", choices=ImportKind.choices, initial=ImportKind.PERSONS)
    file = forms.FileField(
        label="Fichier CSV, Excel (.xlsx) ou JSON",
        help_text="20 Mo au plus. CSV séparé par des points-virgules, des virgules ou des tabulations ; "
                  "UTF-8 ou Windows-1252. Pour un classeur Excel, seule la première feuille est lue. "
                  "JSON : actions du catalogue au format data·inclusion, offres d'emploi au format France "
                  "Travail (« Offres d'emploi v2 »).",
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.txt,.xlsx,.json,text/csv,application/json"}),
    )

    def __init__(self, *args, kinds=None, **kwargs):
        super().__init__(*args, **kwargs)
        if kinds is not None:
            self.fields["kind"].choices = [(k.value, k.label) for k in kinds]
            if len(kinds) == 1:
                self.fields["kind"].initial = kinds[0].value

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > services.MAX_FILE_SIZE:
            raise forms.ValidationError("Le fichier dépasse 20 Mo : découpez-le en plusieurs fichiers.")
        return file


class MappingForm(forms.Form):
    """One select per field of the platform, listing the file's columns."""

    def __init__(self, *args, job, **kwargs):
        super().__init__(*args, **kwargs)
        self.job = job
        columns = [("", "— Aucune colonne —")] + [(h, h) for h in job.headers]
        for target in m.targets(job.kind):
            self.fields[f"col_{target.name}"] = forms.ChoiceField(
                label=target.label, choices=columns, required=False, initial=job.mapping.get(target.name, ""),
                help_text=target.help,
            )
            self.fields[f"col_{target.name}"].target = target
        if job.kind == ImportKind.PERSONS:
            self.fields["match_key"] = forms.ChoiceField(
                label="Clé de rapprochement avec les personnes déjà enregistrées", choices=MatchKey.choices,
                initial=job.match_key, widget=forms.RadioSelect,
                help_text="Une ligne dont la clé existe déjà met à jour cette personne au lieu d'en créer une autre.",
            )
            choices = services.referent_choices(job.structure)
            self.fields["referent"] = forms.ChoiceField(
                label="Référent unique des personnes créées",
                choices=[(str(ms.user_id), f"{ms.user} ({ms.get_role_display().lower()})") for ms in choices],
                initial=str(job.referent_id or job.created_by_id),
            )

    def column_fields(self):
        return [self[name] for name in self.fields if name.startswith("col_")]

    def mapping(self):
        return {name[4:]: value for name, value in self.cleaned_data.items() if name.startswith("col_") and value}


class RowForm(forms.Form):
    """The mapped cells of one row, editable (text as in the file)."""

    def __init__(self, *args, job, row, **kwargs):
        super().__init__(*args, **kwargs)
        labels = m.target_map(job.kind)
        for name in m.target_map(job.kind):
            if name not in job.mapping:
                continue
            target = labels[name]
            # A long cell (an action's description) gets room, and is never cut by the form.
            long_text = target.max_length > 300
            self.fields[name] = forms.CharField(
                label=f"{target.label} (colonne « {job.mapping[name]} »)", required=False,
                initial=row.raw.get(name, ""), max_length=max(300, target.max_length), help_text=target.help,
                widget=forms.Textarea(attrs={"rows": 4}) if long_text else forms.TextInput,
            )
            self.fields[name].error_message = (row.errors or {}).get(name)
            if self.fields[name].error_message:
                self.fields[name].widget.attrs.update({
                    "aria-invalid": "true", "aria-describedby": f"id_{self.add_prefix(name)}_error"})
