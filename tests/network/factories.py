import factory
from django.utils import timezone

from spie.network.models import Membership, Structure, Territory, User
from spie.referentials.models import Commune


class TerritoryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Territory
        django_get_or_create = ("code",)

    code = "31"
    name = "Haute-Garonne"
    display_name = "SPIE Haute-Garonne"


class CommuneFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Commune
        django_get_or_create = ("code_insee",)

    code_insee = "31555"
    name = "Toulouse"
    departement = "31"
    region = "76"
    postal_codes = "31000 31100 31200 31300 31400 31500"
    population = 511684
    epci_siren = "243100518"
    epci_name = "Toulouse Métropole"
    lat = 43.60047
    lon = 1.43259
    search_key = factory.LazyAttribute(lambda o: o.name.lower())


class StructureFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Structure

    territory = factory.SubFactory(TerritoryFactory)
    name = factory.Sequence(lambda n: f"Structure {n}")
    slug = factory.Sequence(lambda n: f"structure-{n}")
    kind = Structure.Kind.ASSOCIATION
    commune = factory.SubFactory(CommuneFactory)
    email = factory.Sequence(lambda n: f"contact{n}@structure.example")
    publics = factory.LazyFunction(lambda: ["personnes-en-situation-durgence"])
    themes = factory.LazyFunction(lambda: ["emploi"])


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"pro{n}@spie.example")
    first_name = factory.Sequence(lambda n: f"Prénom{n}")
    last_name = factory.Sequence(lambda n: f"Nom{n}")
    password = factory.PostGenerationMethodCall("set_password", "motdepasse-tres-solide")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    user = factory.SubFactory(UserFactory)
    structure = factory.SubFactory(StructureFactory)
    role = Membership.Role.REFERENT
    start_date = factory.LazyFunction(lambda: timezone.localdate().replace(year=2024))


def make_professional(role=Membership.Role.REFERENT, structure=None, **user_kwargs):
    """A user with one active membership; returns the user."""
    user = UserFactory(**user_kwargs)
    MembershipFactory(user=user, role=role, structure=structure or StructureFactory())
    return user
