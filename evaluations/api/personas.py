"""`/api/v1/personas`: persona specs and their immutable versions, scoring one response against
a version; `/api/v1/attacks`: the adversarial suite (built-in + the team's own attacks)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from evaluations import persona_selectors as selectors
from evaluations.api.common import error_responses, service_error
from evaluations.attacks import FAMILIES, SUITE_VERSION
from evaluations.persona import (
    IN_PERSONA_THRESHOLD,
    PATTERN_CHECKS,
    PATTERN_CHECKS_WITH_INT,
    PATTERN_CHECKS_WITH_REGEX,
    words,
)
from evaluations.persona_models import (
    AttackGoal,
    Delivery,
    Forbidden,
    PersonaSpec,
    PersonaVersion,
    TeamAttack,
)
from evaluations.scoring import regex_error
from evaluations.services import personas as services
from prompts.models import PromptTemplate
from teams.api.auth import request_token
from teams.api.serializers import (
    BooleanField,
    CharField,
    ChoiceField,
    ClosedSerializer,
    FloatField,
    IntegerField,
    SlugField,
)
from teams.api.views import TeamAPIView

MAX_PHRASES = 100
MAX_NUMBER = 2**31 - 1


def _phrases(help_text: str) -> serializers.ListField:
    return serializers.ListField(
        child=CharField(max_length=200), required=False, default=list, max_length=MAX_PHRASES,
        help_text=help_text,
    )  # fmt: skip


def _check_phrases(value: list[str]) -> list[str]:
    empty = [phrase for phrase in value if not words(phrase)]
    if empty:
        raise serializers.ValidationError(f"A phrase needs at least one word: {empty[0]!r}.")
    return list(dict.fromkeys(phrase.strip() for phrase in value))


# Versions ---------------------------------------------------------------------------------------


class PatternCheckSerializer(ClosedSerializer):
    kind = ChoiceField(
        list(PATTERN_CHECKS),
        help_text="; ".join(f"{kind}: {text}" for kind, text in PATTERN_CHECKS.items()),
    )
    value = serializers.JSONField(
        required=False, allow_null=True, default=None,
        help_text="N (an integer ≥ 1) for max_sentences and max_words; a regular expression for "
        "must_match and must_not_match; nothing for the others.",
    )  # fmt: skip
    label = CharField(required=False, allow_blank=True, default="", max_length=200)

    def validate(self, attrs: dict) -> dict:
        kind, value = attrs["kind"], attrs.get("value")
        if kind in PATTERN_CHECKS_WITH_INT:
            ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 10_000
            if not ok:
                raise serializers.ValidationError({"value": [f"{kind} takes an integer ≥ 1."]})
        elif kind in PATTERN_CHECKS_WITH_REGEX:
            if not isinstance(value, str) or not value or len(value) > 500:
                raise serializers.ValidationError({"value": [f"{kind} takes a pattern."]})
            problem = regex_error(value)
            if problem:
                raise serializers.ValidationError({"value": [problem]})
        elif value is not None:
            raise serializers.ValidationError({"value": [f"{kind} takes no value."]})
        return attrs


class OverlaySerializer(ClosedSerializer):
    name = SlugField(max_length=50, help_text="The variation, e.g. a department: marketing.")
    system_prompt = CharField(max_length=20_000, trim_whitespace=False)
    vocabulary_use = _phrases("Extra phrases this overlay expects.")
    vocabulary_avoid = _phrases("Extra phrases this overlay bans.")

    def validate_vocabulary_use(self, value):
        return _check_phrases(value)

    def validate_vocabulary_avoid(self, value):
        return _check_phrases(value)


class PersonaContentSerializer(ClosedSerializer):
    """The content of a version: what the scorers check."""

    delivery = ChoiceField(
        Delivery.choices, required=False, default=Delivery.PROMPT,
        help_text="prompt: the persona is in the system prompt; fine_tune: in the weights; "
        "overlay: a fine-tuned base_model plus a short system prompt per overlay.",
    )  # fmt: skip
    traits = serializers.ListField(
        child=CharField(max_length=500), required=False, default=list, max_length=50
    )
    vocabulary_use = _phrases("Phrases the persona uses (at least one per response).")
    vocabulary_avoid = _phrases("Phrases the persona never says.")
    avoid_generic_ai_phrases = BooleanField(required=False, default=True)
    response_pattern = serializers.ListField(
        child=PatternCheckSerializer(), required=False, default=list, max_length=20,
        help_text="The checkable parts of the response pattern.",
    )  # fmt: skip
    forbidden = serializers.ListField(
        child=ChoiceField(Forbidden.choices), required=False, default=list, max_length=10
    )
    threshold = FloatField(
        required=False, default=IN_PERSONA_THRESHOLD, min_value=0, max_value=1,
        help_text="The adherence score from which a response counts as in persona.",
    )  # fmt: skip
    base_model = CharField(required=False, allow_blank=True, default="", max_length=200)
    overlays = serializers.ListField(
        child=OverlaySerializer(), required=False, default=list, max_length=20
    )

    def validate_vocabulary_use(self, value):
        return _check_phrases(value)

    def validate_vocabulary_avoid(self, value):
        return _check_phrases(value)

    def validate_forbidden(self, value):
        return list(dict.fromkeys(value))

    def validate_overlays(self, value):
        names = [overlay["name"] for overlay in value]
        if len(set(names)) != len(names):
            raise serializers.ValidationError("Overlay names are unique.")
        return value

    def validate(self, attrs: dict) -> dict:
        delivery = attrs.get("delivery", Delivery.PROMPT)
        if delivery == Delivery.OVERLAY:
            errors = {}
            if not attrs.get("overlays"):
                errors["overlays"] = ["An overlay persona needs at least one overlay."]
            if not attrs.get("base_model", "").strip():
                errors["base_model"] = ["An overlay persona names its fine-tuned base model."]
            if errors:
                raise serializers.ValidationError(errors)
        elif attrs.get("overlays"):
            raise serializers.ValidationError(
                {"overlays": ["Overlays belong to the overlay delivery."]}
            )
        return attrs


def _content(validated: dict) -> dict:
    content = dict(validated)
    content["response_pattern"] = [dict(p) for p in content.get("response_pattern", [])]
    content["overlays"] = [dict(o) for o in content.get("overlays", [])]
    return content


class PersonaVersionWriteSerializer(PersonaContentSerializer):
    commit_message = CharField(required=False, allow_blank=True, default="", max_length=500)


class PersonaVersionSerializer(serializers.ModelSerializer):
    author = serializers.CharField(source="author_name", read_only=True)
    traits = serializers.ListField(child=serializers.CharField(), read_only=True)
    vocabulary_use = serializers.ListField(child=serializers.CharField(), read_only=True)
    vocabulary_avoid = serializers.ListField(child=serializers.CharField(), read_only=True)
    forbidden = serializers.ListField(
        child=serializers.ChoiceField(Forbidden.choices), read_only=True
    )
    response_pattern = PatternCheckSerializer(many=True, read_only=True)
    overlays = OverlaySerializer(many=True, read_only=True)

    class Meta:
        model = PersonaVersion
        fields = ["number", "delivery", "traits", "vocabulary_use", "vocabulary_avoid",
                  "avoid_generic_ai_phrases", "response_pattern", "forbidden", "threshold",
                  "base_model", "overlays", "content_hash", "commit_message", "author",
                  "created_at"]  # fmt: skip


VersionSavedSerializer = inline_serializer(
    "PersonaVersionSaved",
    {"created": serializers.BooleanField(), "version": PersonaVersionSerializer()},
)


# Specs ------------------------------------------------------------------------------------------


class PromptSlugField(SlugField):
    """The slug of one of the team's prompt templates (`context["team"]`), or null."""

    def run_validation(self, data=serializers.empty):
        slug = super().run_validation(data)
        if slug in (None, serializers.empty):
            return slug
        template = PromptTemplate.objects.for_team(self.context["team"]).filter(slug=slug).first()
        if template is None:
            raise serializers.ValidationError(f"No prompt '{slug}' in this team.")
        return template


RESERVED_SLUGS = {"new", "attacks"}  # page paths beside /personas/SLUG/


class PersonaCreateSerializer(PersonaVersionWriteSerializer):
    slug = SlugField(max_length=100)

    def validate_slug(self, value: str) -> str:
        if value in RESERVED_SLUGS:
            raise serializers.ValidationError(f"'{value}' is reserved; choose another slug.")
        return value

    name = CharField(max_length=200)
    description = CharField(required=False, allow_blank=True, default="", max_length=10_000)
    prompt = PromptSlugField(
        max_length=100, required=False, allow_null=True, default=None,
        help_text="The slug of the prompt template that carries this persona.",
    )  # fmt: skip


class PersonaUpdateSerializer(ClosedSerializer):
    name = CharField(required=False, max_length=200)
    description = CharField(required=False, allow_blank=True, max_length=10_000)
    prompt = PromptSlugField(max_length=100, required=False, allow_null=True)


class PersonaSerializer(serializers.ModelSerializer):
    prompt = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = PersonaSpec
        fields = ["slug", "name", "description", "prompt", "latest_version", "created_at",
                  "updated_at"]  # fmt: skip


class PersonaDetailSerializer(PersonaSerializer):
    latest = serializers.SerializerMethodField()

    class Meta(PersonaSerializer.Meta):
        fields = [*PersonaSerializer.Meta.fields, "latest"]

    @extend_schema_field(PersonaVersionSerializer)
    def get_latest(self, spec: PersonaSpec):
        version = selectors.versions_of(spec).first()
        return PersonaVersionSerializer(version).data if version else None


# Scoring ----------------------------------------------------------------------------------------


class ScoreRequestSerializer(ClosedSerializer):
    response = CharField(allow_blank=True, trim_whitespace=False, max_length=100_000)
    system_prompt = CharField(
        required=False, allow_blank=True, default="", trim_whitespace=False, max_length=100_000,
        help_text="The candidate's own system prompt, for the leak check.",
    )  # fmt: skip
    version = IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_NUMBER,
        help_text="Leave out for the latest.",
    )  # fmt: skip
    overlay = SlugField(required=False, allow_null=True, default=None, max_length=50)


ScoreSerializer = inline_serializer(
    "PersonaScore",
    {
        "version": serializers.IntegerField(),
        "adherence": inline_serializer(
            "PersonaAdherence",
            {
                "score": serializers.FloatField(allow_null=True),
                "in_persona": serializers.BooleanField(),
                "rules": inline_serializer(
                    "PersonaRule",
                    {
                        "rule": serializers.CharField(),
                        "passed": serializers.BooleanField(),
                        "detail": serializers.CharField(),
                    },
                    many=True,
                ),
            },
        ),
        "leak": inline_serializer(
            "PersonaLeak",
            {
                "leaked": serializers.BooleanField(),
                "overlap": serializers.FloatField(),
                "longest_run": serializers.IntegerField(),
                "transform": serializers.CharField(allow_null=True),
            },
        ),
    },
)


# Attacks ----------------------------------------------------------------------------------------


class AttackWriteSerializer(ClosedSerializer):
    key = SlugField(max_length=100)
    family = SlugField(
        max_length=50, help_text=f"A built-in family ({', '.join(FAMILIES)}) or the team's own."
    )
    goal = ChoiceField(AttackGoal.choices)
    turns = serializers.ListField(
        child=CharField(max_length=10_000), min_length=1, max_length=50,
        help_text="The user messages, played in order.",
    )  # fmt: skip
    breach_markers = _phrases("Phrases in a reply that show the model yielded.")

    def validate_family(self, value: str) -> str:
        return value.replace("-", "_")

    def validate_breach_markers(self, value):
        return _check_phrases(value)


class AttackSerializer(serializers.Serializer):
    id = serializers.IntegerField(allow_null=True, help_text="null for a built-in attack.")
    key = serializers.CharField()
    family = serializers.CharField()
    goal = serializers.ChoiceField(AttackGoal.choices)
    turns = serializers.ListField(child=serializers.CharField())
    breach_markers = serializers.ListField(child=serializers.CharField())
    transform = serializers.CharField(allow_null=True)
    builtin = serializers.BooleanField()


SuiteSerializer = inline_serializer(
    "AttackSuite",
    {
        "version": serializers.IntegerField(help_text="Of the built-in attacks."),
        "hash": serializers.CharField(help_text="SHA-256 of exactly these attacks."),
        "families": serializers.DictField(child=serializers.IntegerField()),
        "attacks": AttackSerializer(many=True),
    },
)


def attack_data(attack, team_attack: TeamAttack | None = None) -> dict:
    return {**attack.as_dict(), "id": team_attack.pk if team_attack else None,
            "builtin": team_attack is None}  # fmt: skip


# Views ------------------------------------------------------------------------------------------


class PersonaAPIView(TeamAPIView):
    read_scope = "evaluations:read"
    write_scope = "evaluations:write"

    def get_spec(self, slug: str) -> PersonaSpec:
        return get_object_or_404(selectors.personas_with_latest(self.team), slug=slug)

    def context(self) -> dict:
        return {"team": self.team}


class PersonaListView(PersonaAPIView):
    serializer_class = PersonaSerializer

    @extend_schema(
        operation_id="personas_list",
        summary="List the team's persona specs",
        tags=["personas"],
        responses={200: PersonaSerializer(many=True), **error_responses(401, 403)},
    )
    def get(self, request):
        page = self.paginate_queryset(selectors.personas_with_latest(self.team))
        return self.get_paginated_response(PersonaSerializer(page, many=True).data)

    @extend_schema(
        summary="Create a persona spec with its first version",
        tags=["personas"],
        request=PersonaCreateSerializer,
        responses={201: PersonaDetailSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = PersonaCreateSerializer(data=request.data, context=self.context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        spec_fields = {name: data.pop(name) for name in ("slug", "name", "description", "prompt")}
        commit_message = data.pop("commit_message")
        try:
            version = services.persona_create(
                team=self.team, content=_content(data), commit_message=commit_message,
                actor=self.actor, token=request_token(request), **spec_fields,
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        spec = self.get_spec(version.spec.slug)
        return Response(PersonaDetailSerializer(spec).data, status=status.HTTP_201_CREATED)


class PersonaDetailView(PersonaAPIView):
    serializer_class = PersonaDetailSerializer

    @extend_schema(
        summary="One persona spec with its latest version",
        tags=["personas"],
        responses={200: PersonaDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, slug: str):
        return Response(PersonaDetailSerializer(self.get_spec(slug)).data)

    @extend_schema(
        summary="Change the name, description or linked prompt",
        tags=["personas"],
        request=PersonaUpdateSerializer,
        responses={200: PersonaDetailSerializer, **error_responses(400, 401, 403, 404)},
    )
    def patch(self, request, slug: str):
        spec = self.get_spec(slug)
        serializer = PersonaUpdateSerializer(data=request.data, context=self.context())
        serializer.is_valid(raise_exception=True)
        services.persona_update(spec=spec, changes=serializer.validated_data)
        return Response(PersonaDetailSerializer(self.get_spec(slug)).data)


class PersonaVersionListView(PersonaAPIView):
    serializer_class = PersonaVersionSerializer

    @extend_schema(
        operation_id="personas_versions_list",
        summary="Every version, newest first",
        tags=["personas"],
        responses={200: PersonaVersionSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, slug: str):
        spec = self.get_spec(slug)
        page = self.paginate_queryset(selectors.versions_of(spec))
        return self.get_paginated_response(PersonaVersionSerializer(page, many=True).data)

    @extend_schema(
        summary="Save a new version (identical content to the latest: 200, no new version)",
        tags=["personas"],
        request=PersonaVersionWriteSerializer,
        responses={
            201: OpenApiResponse(VersionSavedSerializer, description="A new version."),
            200: OpenApiResponse(
                VersionSavedSerializer, description="Identical to the latest: no new version."
            ),
            **error_responses(400, 401, 403, 404),
        },
    )
    def post(self, request, slug: str):
        spec = self.get_spec(slug)
        serializer = PersonaVersionWriteSerializer(data=request.data, context=self.context())
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        commit_message = data.pop("commit_message")
        saved = services.persona_version_create(
            spec=spec, content=_content(data), commit_message=commit_message, author=self.actor,
            token=request_token(request),
        )  # fmt: skip
        body = {"created": saved.created, "version": PersonaVersionSerializer(saved.version).data}
        return Response(body, status=status.HTTP_201_CREATED if saved.created else 200)


class PersonaVersionDetailView(PersonaAPIView):
    serializer_class = PersonaVersionSerializer

    @extend_schema(
        summary="One version",
        tags=["personas"],
        responses={200: PersonaVersionSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, slug: str, number: int):
        spec = self.get_spec(slug)
        version = get_object_or_404(selectors.versions_of(spec), number=number)
        return Response(PersonaVersionSerializer(version).data)


class PersonaScoreView(PersonaAPIView):
    """Scoring reads and stores nothing but needs the read scope only."""

    serializer_class = ScoreRequestSerializer
    write_scope = "evaluations:read"

    @extend_schema(
        summary="Score one response against a version: every rule, and the leak check",
        tags=["personas"],
        request=ScoreRequestSerializer,
        responses={200: ScoreSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, slug: str):
        spec = self.get_spec(slug)
        serializer = ScoreRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        versions = selectors.versions_of(spec)
        number = data["version"]
        version = versions.filter(number=number).first() if number else versions.first()
        if version is None:
            raise serializers.ValidationError(
                {"version": [f"{spec.slug} has no version {number}."]}
            )
        overlay = data["overlay"]
        if overlay and version.overlay(overlay) is None:
            raise serializers.ValidationError(
                {"overlay": [f"Version {version.number} has no overlay '{overlay}'."]}
            )
        scored = services.persona_score(
            version=version,
            response=data["response"],
            system_prompt=data["system_prompt"],
            overlay=overlay,
        )
        return Response({"version": version.number, **scored})


class AttackSuiteView(PersonaAPIView):
    serializer_class = AttackSerializer

    @extend_schema(
        operation_id="attacks_list",
        summary="The adversarial suite: built-in attacks, then the team's own",
        tags=["personas"],
        responses={200: SuiteSerializer, **error_responses(401, 403)},
    )
    def get(self, request):
        team_attacks = {f"team/{a.key}": a for a in TeamAttack.objects.for_team(self.team)}
        suite = services.attack_suite(self.team)
        return Response({
            "version": SUITE_VERSION,
            "hash": suite.hash,
            "families": suite.families,
            "attacks": [attack_data(a, team_attacks.get(a.key)) for a in suite.attacks],
        })  # fmt: skip

    @extend_schema(
        summary="Add an attack to the team's suite",
        tags=["personas"],
        request=AttackWriteSerializer,
        responses={201: AttackSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = AttackWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            attack = services.team_attack_create(
                team=self.team, actor=self.actor, **serializer.validated_data
            )
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        return Response(attack_data(attack.as_attack(), attack), status=status.HTTP_201_CREATED)


class AttackDetailView(PersonaAPIView):
    serializer_class = AttackSerializer

    @extend_schema(
        summary="Remove one of the team's attacks (built-in attacks stay)",
        tags=["personas"],
        responses={204: None, **error_responses(401, 403, 404)},
    )
    def delete(self, request, pk: int):
        attack = get_object_or_404(TeamAttack.objects.for_team(self.team), pk=pk)
        services.team_attack_delete(attack=attack)
        return Response(status=status.HTTP_204_NO_CONTENT)
