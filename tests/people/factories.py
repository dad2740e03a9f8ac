import datetime

import factory

from spie.people.models import Consent, FollowUpMembership, HealthInfo, Person
from tests.network.factories import CommuneFactory, TerritoryFactory


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Person

    territory = factory.SubFactory(TerritoryFactory)
    first_name = factory.Sequence(lambda n: f"Camille{n}")
    last_name = factory.Sequence(lambda n: f"Martin{n}")
    birth_date = datetime.date(1985, 4, 12)
    sex = Person.Sex.FEMALE
    commune = factory.SubFactory(CommuneFactory)
    rsa = True
    rsa_rights_opened_on = datetime.date(2026, 9, 1)
    rsa_droits_devoirs = True

    class Params:
        young = factory.Trait(birth_date=datetime.date(2004, 6, 1))
        senior = factory.Trait(birth_date=datetime.date(1968, 2, 2))
        parent_of_toddler = factory.Trait(children_birth_years=[2025], lone_parent=True)


class HealthInfoFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HealthInfo

    person = factory.SubFactory(PersonFactory)
    rqth = True
    work_restrictions = "Pas de port de charges lourdes"


def add_to_group(person, user, kind=FollowUpMembership.Kind.MEMBER, *, can_see_health=False):
    """Put ``user`` (with its first membership's structure) in ``person``'s follow-up group."""
    membership = user.memberships.select_related("structure").first()
    return FollowUpMembership.objects.create(
        person=person, user=user, structure=membership.structure, kind=kind, can_see_health=can_see_health
    )


def oppose_sharing(person):
    return Consent.objects.create(person=person, scope=Consent.Scope.SHARING, status=Consent.Status.OPPOSED)
