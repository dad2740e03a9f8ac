"""Factories of the catalogue: actions (with traits), sessions and referrals."""

import datetime

import factory
from django.utils import timezone

from spie.catalogue.models import Action, ActionSession, ActionStatus, Referral
from tests.network.factories import CommuneFactory, StructureFactory, TerritoryFactory


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    territory = factory.SubFactory(TerritoryFactory)
    structure = factory.SubFactory(StructureFactory, territory=factory.SelfAttribute("..territory"))
    name = factory.Sequence(lambda n: f"Atelier CV et lettre de motivation {n}")
    summary = "Un atelier collectif pour préparer sa candidature."
    description = (
        "Chaque semaine, un conseiller aide les participants à rédiger leur CV, à préparer une lettre "
        "de motivation et à s'entraîner aux entretiens d'embauche."
    )
    type = "atelier"
    thematiques = factory.LazyFunction(
        lambda: ["preparer-sa-candidature--realiser-un-cv-et-ou-une-lettre-de-motivation"]
    )
    fees = "gratuit"
    publics = factory.LazyFunction(lambda: ["tous-publics"])
    reception_modes = factory.LazyFunction(lambda: ["en-presentiel"])
    commune = factory.SubFactory(CommuneFactory)
    address = "12 rue des Lilas"
    postal_code = "31000"
    contact_name = "Sam Conseil"
    email = factory.Sequence(lambda n: f"action{n}@structure.example")
    phone = "05 61 00 00 00"
    mobilisation_modes = factory.LazyFunction(lambda: ["envoyer-un-courriel"])
    mobilisable_by = factory.LazyFunction(lambda: ["professionnels"])
    weekly_hours = 3
    weeks = 4
    spie_kind = "workshop"
    spie_axis = "axe3"
    status = ActionStatus.PUBLISHED
    published_at = factory.LazyFunction(timezone.now)

    class Params:
        remote = factory.Trait(reception_modes=["a-distance"], commune=None, address="", postal_code="")
        draft = factory.Trait(status=ActionStatus.DRAFT, published_at=None)
        stale = factory.Trait(content_updated_on=datetime.date(2024, 1, 1))


class ActionSessionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ActionSession

    action = factory.SubFactory(ActionFactory)
    starts_on = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=14))
    capacity = 10


class ReferralFactory(factory.django.DjangoModelFactory):
    """A referral in status "sent" (use the services to move it: they log the transitions)."""

    class Meta:
        model = Referral

    action = factory.SubFactory(ActionFactory)
    to_structure = factory.SelfAttribute("action.structure")
    consent = True
    consent_on = factory.LazyFunction(timezone.localdate)
    motivation = "Reprendre confiance et préparer des candidatures."
    availability = "Les matins"
