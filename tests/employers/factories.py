"""Factories of the employer side: ROME codes, companies (with or without an account), openings,
immersion offers, engagements, job-search profiles with targets."""

import datetime

import factory
from django.utils import timezone
from stdnum import luhn

from spie.employers.models import (
    Company,
    Engagement,
    ImmersionOffer,
    JobOpening,
    JobSearchProfile,
    TargetJob,
)
from spie.network.models import Membership, Structure
from spie.referentials.models import RomeAppellation, RomeCode, RomeDomain
from tests.network.factories import CommuneFactory, MembershipFactory, StructureFactory, TerritoryFactory, UserFactory

# Valid SIRETs (Luhn) for tests: 14 digits.
SIRETS = ["73282932000074", "35600000000048", "44306184100047", "55208131766522", "38012986643097"]


def luhn_siret(n):
    """A valid 14-digit SIRET built from ``n``: its SIREN (9 digits) and the whole SIRET both
    pass the Luhn check, as ``stdnum.fr.siret`` requires."""
    siren = f"{n % 10**8:08d}"
    siren += luhn.calc_check_digit(siren)
    base = siren + f"{n // 10**8 % 10**4:04d}"
    return base + luhn.calc_check_digit(base)


def rome(code="G1602", label="Personnel de cuisine", domain="G16"):
    """Get or create a ROME code (and its domain)."""
    dom, _ = RomeDomain.objects.get_or_create(code=domain, defaults={"label": f"Domaine {domain}", "level": "domaine"})
    obj, _ = RomeCode.objects.get_or_create(code=code, defaults={"label": label, "domain": dom})
    return obj


def appellation(code_rome, code="12345", label="Commis de cuisine"):
    obj, _ = RomeAppellation.objects.get_or_create(
        code_ogr=code, defaults={"label": label, "rome": code_rome, "search_key": label.lower()}
    )
    return obj


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    territory = factory.SubFactory(TerritoryFactory)
    siret = factory.Sequence(lambda n: luhn_siret(10_000_000 + n))
    name = factory.Sequence(lambda n: f"Entreprise {n}")
    size = "10-49"
    commune = factory.SubFactory(CommuneFactory)
    contact_name = "Claire Recrute"
    contact_email = factory.Sequence(lambda n: f"rh{n}@entreprise.example")
    contact_phone = "05 61 11 22 33"


def company_with_account(**kwargs):
    """A company with its own space and one company user (role employer); returns (company, user)."""
    company = CompanyFactory(**kwargs)
    structure = StructureFactory(territory=company.territory, name=company.name, kind=Structure.Kind.COMPANY)
    company.account = structure
    company.save(update_fields=["account"])
    user = UserFactory()
    MembershipFactory(user=user, structure=structure, role=Membership.Role.EMPLOYER)
    return company, user


class JobOpeningFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobOpening

    company = factory.SubFactory(CompanyFactory)
    territory = factory.SelfAttribute("company.territory")
    rome = factory.LazyFunction(rome)
    title = factory.Sequence(lambda n: f"Commis de cuisine {n}")
    description = "Préparation des entrées et des desserts, plonge."
    contract_type = "cdi"
    weekly_hours = 35
    schedule = factory.LazyFunction(lambda: ["day"])
    commune = factory.SubFactory(CommuneFactory)
    positions = 1
    opened_on = factory.LazyFunction(lambda: timezone.localdate() - datetime.timedelta(days=3))


class ImmersionOfferFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ImmersionOffer

    company = factory.SubFactory(CompanyFactory)
    territory = factory.SelfAttribute("company.territory")
    rome = factory.LazyFunction(rome)
    title = factory.Sequence(lambda n: f"Découverte du métier de cuisinier {n}")
    commune = factory.SubFactory(CommuneFactory)
    schedule = factory.LazyFunction(lambda: ["day"])
    places = 2


class EngagementFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Engagement

    territory = factory.SubFactory(TerritoryFactory)
    company = factory.SubFactory(CompanyFactory, territory=factory.SelfAttribute("..territory"))
    kind = "visit"
    title = factory.Sequence(lambda n: f"Visite de l'atelier {n}")
    date = factory.LazyFunction(lambda: timezone.localdate() + datetime.timedelta(days=10))
    commune = factory.SubFactory(CommuneFactory)
    capacity = 12


class JobSearchProfileFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = JobSearchProfile

    commune = factory.SubFactory(CommuneFactory)
    travel_mode = "public"
    max_travel_minutes = 45
    availability = factory.LazyFunction(lambda: ["day"])
    childcare_conflicts = factory.LazyFunction(list)
    contracts = factory.LazyFunction(lambda: ["cdi", "cdd"])
    hours_min = 20
    hours_max = 35


def profile_for(person, *romes, **kwargs):
    """A job-search profile for ``person`` with the given ROME targets (codes or objects)."""
    profile = JobSearchProfileFactory(person=person, **kwargs)
    for i, code in enumerate(romes or ["G1602"]):
        obj = code if isinstance(code, RomeCode) else rome(code)
        TargetJob.objects.create(profile=profile, rank=i, rome=obj, experience_months=12)
    return profile
