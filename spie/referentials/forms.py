"""Reusable form fields backed by the referentials."""

from urllib.parse import urlencode

from django import forms
from django.core.exceptions import ValidationError
from django.urls import reverse

from .models import Commune
from .selectors import AmbiguousCommune, CommuneNotFound, commune_label, resolve_commune


class CommuneInput(forms.TextInput):
    """Text input suggesting communes through a ``<datalist>`` refreshed with htmx.

    Without JavaScript it is a plain text input: the field still understands a typed name,
    postal code or INSEE code.
    """

    template_name = "referentials/widgets/commune_input.html"

    def __init__(self, attrs=None, *, departement=None, datalist_id=None):
        super().__init__(attrs)
        self.departement = departement
        self.datalist_id = datalist_id

    def options_url(self, name):
        params = {"field": name}
        if self.departement:
            params["dep"] = self.departement
        return f"{reverse('referentials:commune_options')}?{urlencode(params)}"

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        widget_attrs = context["widget"]["attrs"]
        datalist_id = self.datalist_id or f"{widget_attrs.get('id') or 'id_' + name}-communes"
        widget_attrs.setdefault("list", datalist_id)
        widget_attrs.setdefault("autocomplete", "off")
        widget_attrs.setdefault("hx-get", self.options_url(name))
        widget_attrs.setdefault("hx-trigger", "input changed delay:250ms")
        widget_attrs.setdefault("hx-target", f"#{datalist_id}")
        widget_attrs.setdefault("hx-swap", "innerHTML")
        widget_attrs.setdefault("hx-sync", "this:replace")
        context["widget"]["datalist_id"] = datalist_id
        context["widget"]["options"] = []
        return context


class CommuneField(forms.CharField):
    """A commune typed as "Toulouse (31000)", "Toulouse", "31555" or a postal code.

    ``clean()`` returns the :class:`~spie.referentials.models.Commune` (or ``None`` when not
    required and empty). ``departement`` restricts the accepted communes and suggestions.
    A name shared by several communes resolves to the one in ``settings.SPIE_TERRITORY``
    when it is unique there.
    """

    widget = CommuneInput
    default_error_messages = {
        "not_found": "Commune introuvable : « %(value)s ». Saisissez son nom, son code postal ou son code INSEE.",
        "ambiguous": "Plusieurs communes correspondent, précisez le code postal : %(choices)s.",
        "ambiguous_postal_code": (
            "Plusieurs communes ont le code postal %(value)s, précisez le nom de la commune : %(choices)s."
        ),
    }

    def __init__(self, *, departement=None, datalist_id=None, **kwargs):
        kwargs.setdefault("label", "Commune")
        kwargs.setdefault("max_length", 150)
        kwargs.setdefault("widget", CommuneInput(departement=departement, datalist_id=datalist_id))
        super().__init__(**kwargs)
        self.departement = departement

    def prepare_value(self, value):
        """Show a commune (or the INSEE code a ModelForm gives as initial) as its label."""
        if isinstance(value, Commune):
            return commune_label(value)
        if isinstance(value, str) and len(value) == 5 and value[:2].isalnum() and value[2:].isdigit():
            commune = Commune.objects.defer("shape").filter(code_insee=value.upper()).first()
            if commune:
                return commune_label(commune)
        return value

    def resolve(self, value):
        try:
            return resolve_commune(value, departement=self.departement)
        except CommuneNotFound:
            raise ValidationError(self.error_messages["not_found"], code="not_found", params={"value": value}) from None
        except AmbiguousCommune as error:
            choices = ", ".join(error.labels)
            if error.by_postal_code:
                raise ValidationError(
                    self.error_messages["ambiguous_postal_code"],
                    code="ambiguous_postal_code",
                    params={"value": value, "choices": choices},
                ) from None
            raise ValidationError(
                self.error_messages["ambiguous"], code="ambiguous", params={"value": value, "choices": choices}
            ) from None

    def clean(self, value):
        value = super().clean(value)
        if value in self.empty_values:
            return None
        return self.resolve(value)

    def has_changed(self, initial, data):
        if self.disabled:
            return False
        initial_code = initial.pk if isinstance(initial, Commune) else (initial or "")
        if data in self.empty_values:
            return bool(initial_code)
        try:
            commune = self.resolve(self.to_python(data))
        except ValidationError:
            return True
        return str(initial_code) != commune.pk
