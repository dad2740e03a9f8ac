"""Serializers of the REST API v1.

Reading serializers expose only what a section allows; the views decide which section (see
``spie.people.policies``). Writes go through ``spie.people.services``, never ``serializer.save``.
"""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from spie.core.models import AccessLog
from spie.network.models import Membership, Structure
from spie.people.forms import PERSON_FIELDS
from spie.people.models import FollowUpMembership, HealthInfo, Person, TimelineEvent
from spie.referentials.models import Commune

# --- Small references -----------------------------------------------------------------------


class CommuneRefSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="code_insee")

    class Meta:
        model = Commune
        fields = ["code", "name"]


class StructureRefSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = Structure
        fields = ["id", "name", "kind", "kind_label"]


class ProfessionalRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    full_name = serializers.CharField(source="get_full_name")


# --- Persons: directory card and caseload -----------------------------------------------------


class PersonCardSerializer(serializers.Serializer):
    """The directory card of a search result (``SearchResult``): no record data."""

    id = serializers.IntegerField(source="person.pk")
    first_name = serializers.CharField(source="person.first_name")
    last_name = serializers.CharField(source="person.last_name")
    birth_year = serializers.SerializerMethodField()
    commune_name = serializers.SerializerMethodField()
    referent_structure_name = serializers.SerializerMethodField()
    can_open_record = serializers.BooleanField(source="access.can_open_record")

    def get_birth_year(self, result) -> int:
        return result.person.birth_date.year

    def get_commune_name(self, result) -> str | None:
        commune = result.person.commune
        return commune.name if commune else None

    def get_referent_structure_name(self, result) -> str | None:
        return result.referent.structure.name if result.referent else None


class ReferentSummarySerializer(serializers.Serializer):
    name = serializers.CharField()
    structure_name = serializers.CharField()


class PersonSummarySerializer(serializers.ModelSerializer):
    """A line of the caseload (persons the user follows: the record is open to them)."""

    commune = CommuneRefSerializer(allow_null=True)
    publics = serializers.ListField(child=serializers.CharField(), read_only=True)
    # Named like FollowUpMemberSerializer.group_role: one OpenAPI enum for one choice set.
    group_role = serializers.ChoiceField(
        source="my_role", choices=FollowUpMembership.Kind.choices, read_only=True, allow_null=True,
        help_text="Votre rôle dans le groupe de suivi de cette personne.",
    )
    referent = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id", "first_name", "last_name", "birth_date", "sex", "commune", "publics", "group_role",
            "referent", "entered_on", "last_contact_on",
        ]

    @extend_schema_field(ReferentSummarySerializer(allow_null=True))
    def get_referent(self, person):
        referent = next(
            (f for f in getattr(person, "active_followups", []) if f.kind == FollowUpMembership.Kind.REFERENT), None
        )
        if referent is None:
            return None
        return {"name": referent.user.get_full_name() or referent.user.email, "structure_name": referent.structure.name}


class DuplicatePersonsSerializer(serializers.Serializer):
    detail = serializers.CharField()
    duplicates = PersonCardSerializer(many=True)


# --- Persons: the record ---------------------------------------------------------------------


class IdentitySerializer(serializers.ModelSerializer):
    sex_label = serializers.CharField(source="get_sex_display")
    age = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = ["first_name", "last_name", "birth_name", "birth_date", "age", "sex", "sex_label"]

    def get_age(self, person) -> int:
        return person.age()


class ContactSerializer(serializers.ModelSerializer):
    commune = CommuneRefSerializer(allow_null=True)

    class Meta:
        model = Person
        fields = ["address", "commune", "phone", "email"]


class IdentifiersSerializer(serializers.ModelSerializer):
    class Meta:
        model = Person
        fields = ["nir", "caf_number", "msa_number", "france_travail_id", "internal_id"]


class HouseholdSerializer(serializers.ModelSerializer):
    children_birth_years = serializers.ListField(child=serializers.IntegerField())

    class Meta:
        model = Person
        fields = ["lone_parent", "children_birth_years"]


class RightsSerializer(serializers.ModelSerializer):
    labels = serializers.ListField(source="rights_labels", child=serializers.CharField())

    class Meta:
        model = Person
        fields = ["rsa", "rsa_rights_opened_on", "rsa_droits_devoirs", "are", "ass", "aah", "prime_activite", "labels"]


class SituationSerializer(serializers.ModelSerializer):
    languages = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Person
        fields = ["education_level", "languages", "driving_licence", "has_vehicle", "entered_on", "last_contact_on"]


class FollowUpMemberSerializer(serializers.ModelSerializer):
    professional = ProfessionalRefSerializer(source="user")
    email = serializers.EmailField(source="user.email")
    phone = serializers.CharField(source="user.phone")
    structure = StructureRefSerializer()
    # "kind" of a follow-up membership, named apart from the structures' "kind" (another enum).
    group_role = serializers.ChoiceField(source="kind", choices=FollowUpMembership.Kind.choices)
    group_role_label = serializers.CharField(source="get_kind_display")

    class Meta:
        model = FollowUpMembership
        fields = [
            "id", "professional", "email", "phone", "structure", "group_role", "group_role_label", "can_see_health",
            "start_date", "reason",
        ]


class AccessSerializer(serializers.Serializer):
    relation = serializers.CharField()
    sections = serializers.ListField(child=serializers.CharField())
    can_edit = serializers.BooleanField()
    can_manage_group = serializers.BooleanField()
    sharing_opposed = serializers.BooleanField()


class PersonRecordSerializer(serializers.ModelSerializer):
    """The RECORD section. Needs ``access`` in the context and ``active_followups`` prefetched."""

    identity = IdentitySerializer(source="*")
    contact = ContactSerializer(source="*")
    identifiers = IdentifiersSerializer(source="*")
    household = HouseholdSerializer(source="*")
    rights = RightsSerializer(source="*")
    situation = SituationSerializer(source="*")
    publics = serializers.ListField(child=serializers.CharField(), read_only=True)
    followup_group = serializers.SerializerMethodField()
    access = serializers.SerializerMethodField()

    class Meta:
        model = Person
        fields = [
            "id", "identity", "contact", "identifiers", "household", "rights", "situation", "publics",
            "followup_group", "access", "created_at", "updated_at",
        ]

    @extend_schema_field(FollowUpMemberSerializer(many=True))
    def get_followup_group(self, person):
        followups = sorted(
            person.active_followups, key=lambda f: (f.kind != FollowUpMembership.Kind.REFERENT, f.start_date, f.id)
        )
        return FollowUpMemberSerializer(followups, many=True).data

    @extend_schema_field(AccessSerializer)
    def get_access(self, person):
        access = self.context["access"]
        return {
            "relation": access.relation,
            "sections": sorted(access.sections),
            "can_edit": access.can_edit,
            "can_manage_group": access.can_manage_group,
            "sharing_opposed": access.opposed,
        }


class PersonWriteSerializer(serializers.ModelSerializer):
    """Input of POST (creation) and PATCH (update). Validation only: services write."""

    commune = serializers.PrimaryKeyRelatedField(
        queryset=Commune.objects.all(), allow_null=True, required=False,
        help_text="Code INSEE de la commune de résidence.",
    )
    children_birth_years = serializers.ListField(
        child=serializers.IntegerField(min_value=1901, max_value=2099), required=False
    )
    languages = serializers.ListField(child=serializers.CharField(max_length=50), required=False)
    confirm_duplicate = serializers.BooleanField(
        default=False, write_only=True,
        help_text="À la création : confirmer qu'il s'agit d'une autre personne qu'un homonyme existant.",
    )

    class Meta:
        model = Person
        fields = [*PERSON_FIELDS, "commune", "confirm_duplicate"]

    def validate(self, attrs):
        def current(name, default=None):
            if name in attrs:
                return attrs[name]
            return getattr(self.instance, name, default) if self.instance is not None else default

        if current("rsa_rights_opened_on") and not current("rsa", False):
            raise serializers.ValidationError(
                {"rsa": "Cochez « bénéficiaire du RSA » si des droits RSA sont ouverts."}
            )
        return attrs

    def person_data(self):
        data = dict(self.validated_data)
        data.pop("confirm_duplicate", None)
        return data


# --- Persons: other sections ---------------------------------------------------------------


def _health_demand_choices():
    from spie.employers.models import HealthDemand

    return HealthDemand.choices


class HealthSerializer(serializers.ModelSerializer):
    updated_at = serializers.DateTimeField(read_only=True, allow_null=True)
    updated_by = serializers.SerializerMethodField()
    restriction_flags = serializers.ListField(
        child=serializers.ChoiceField(choices=_health_demand_choices(),
                                      error_messages={"invalid_choice": "« {input} » n'est pas dans la liste."}),
        required=False,
        help_text="Contre-indications pour un poste (oui/non), utilisées par le rapprochement avec les offres.",
    )

    class Meta:
        model = HealthInfo
        fields = ["rqth", "rqth_until", "work_restrictions", "restriction_flags", "notes", "updated_at", "updated_by"]

    def get_updated_by(self, info) -> str | None:
        return str(info.updated_by) if info.updated_by_id else None


class AccessLogEntrySerializer(serializers.ModelSerializer):
    """Who read which section, when, through which channel. Never the IP or the data."""

    professional = ProfessionalRefSerializer(source="user")
    structure = StructureRefSerializer(allow_null=True)
    section_label = serializers.CharField(source="get_section_display")
    channel_label = serializers.CharField(source="get_channel_display")

    class Meta:
        model = AccessLog
        fields = ["id", "at", "professional", "structure", "section", "section_label", "channel",
                  "channel_label", "reason"]


class TimelineEventSerializer(serializers.ModelSerializer):
    actor = serializers.SerializerMethodField()
    structure = serializers.SerializerMethodField()
    kind_label = serializers.CharField(read_only=True, help_text="Type d'événement, en français.")

    class Meta:
        model = TimelineEvent
        fields = ["id", "at", "kind", "kind_label", "title", "detail", "actor", "structure"]

    def get_actor(self, event) -> str | None:
        return str(event.actor) if event.actor_id else None

    def get_structure(self, event) -> str | None:
        return event.structure.name if event.structure_id else None


# --- Network --------------------------------------------------------------------------------


class StructureSerializer(serializers.ModelSerializer):
    kind_label = serializers.CharField(source="get_kind_display")
    commune = CommuneRefSerializer(allow_null=True)
    publics = serializers.ListField(child=serializers.CharField())
    themes = serializers.ListField(child=serializers.CharField())
    member_count = serializers.IntegerField(read_only=True)

    class Meta:
        model = Structure
        fields = [
            "id", "name", "slug", "kind", "kind_label", "siret", "address", "postal_code", "commune", "phone",
            "email", "website", "description", "publics", "themes", "member_count",
        ]


class OwnMembershipSerializer(serializers.ModelSerializer):
    structure = StructureRefSerializer()
    territory = serializers.CharField(source="structure.territory.code")
    role_label = serializers.CharField(source="get_role_display")
    publics = serializers.ListField(child=serializers.CharField())
    themes = serializers.ListField(child=serializers.CharField())
    is_current = serializers.BooleanField()

    class Meta:
        model = Membership
        fields = [
            "id", "structure", "territory", "role", "role_label", "job_title", "publics", "themes",
            "start_date", "end_date", "is_active", "is_current",
        ]


class DirectoryStructureSerializer(StructureRefSerializer):
    commune_name = serializers.CharField(source="commune.name", allow_null=True, default=None)

    class Meta(StructureRefSerializer.Meta):
        fields = [*StructureRefSerializer.Meta.fields, "commune_name", "phone", "email"]


class DirectoryEntrySerializer(serializers.ModelSerializer):
    """A professional of the territory in the network directory (one active membership)."""

    professional = ProfessionalRefSerializer(source="user")
    email = serializers.EmailField(source="user.email")
    phone = serializers.CharField(source="user.phone")
    role_label = serializers.CharField(source="get_role_display")
    structure = DirectoryStructureSerializer()
    publics = serializers.ListField(child=serializers.CharField())
    themes = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Membership
        fields = ["id", "professional", "job_title", "role", "role_label", "structure", "email", "phone",
                  "publics", "themes"]
