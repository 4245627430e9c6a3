"""`/api/v1/personas/{slug}/runs`: start a persona run (a benchmark run scored against the
persona, conversations played turn by turn, the adversarial suite) and read its figures."""

from __future__ import annotations

from django.apps import apps
from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from evaluations.api.benchmarks import CandidateInputSerializer
from evaluations.api.common import error_responses, service_error
from evaluations.api.persona_figures import CandidateFiguresSerializer
from evaluations.api.personas import MAX_NUMBER, PersonaAPIView
from evaluations.models import BenchmarkRun, Dataset, Split
from evaluations.services.benchmarks import CandidateSpec
from evaluations.services.persona_runs import persona_run_start
from teams.api.serializers import (
    BooleanField,
    CharField,
    ChoiceField,
    ClosedSerializer,
    IntegerField,
    SlugField,
)


class CandidateSerializer(CandidateInputSerializer):
    """A benchmark candidate, plus the persona overlay it speaks for."""

    overlay = SlugField(
        required=False, allow_null=True, default=None, max_length=50,
        help_text="The persona overlay this candidate speaks for (hybrid).",
    )  # fmt: skip


class PersonaRunWriteSerializer(ClosedSerializer):
    name = CharField(max_length=200)
    version = IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_NUMBER,
        help_text="Of the persona; the latest if left out.",
    )  # fmt: skip
    dataset = IntegerField(min_value=1, max_value=MAX_NUMBER, help_text="A dataset id.")
    split = ChoiceField(Split.choices, required=False, allow_blank=True, default="")
    candidates = serializers.ListField(child=CandidateSerializer(), min_length=1, max_length=10)
    attacks = BooleanField(required=False, default=True,
                           help_text="Also play the team's adversarial suite.")  # fmt: skip
    concurrency = IntegerField(required=False, default=10, min_value=1, max_value=50)
    workload = SlugField(
        required=False, allow_null=True, default=None, max_length=100,
        help_text="The slug of a workload whose next assessment takes this run's consistency "
        "and robustness.",
    )  # fmt: skip

    def validate_candidates(self, value):
        labels = [c["label"] for c in value]
        if len(set(labels)) != len(labels):
            raise serializers.ValidationError("Candidate labels are unique.")
        return value


class PersonaRunSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    progress = inline_serializer(
        "PersonaRunProgress",
        {"done": serializers.IntegerField(), "total": serializers.IntegerField()},
    )
    persona_version = serializers.IntegerField()
    suite_hash = serializers.CharField(allow_null=True)
    candidates = CandidateFiguresSerializer(many=True)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


FIGURES = ("label", "calls", "errors", "drift", "consistency", "turn_usage", "robustness")


def run_data(run: BenchmarkRun) -> dict:
    persona = run.persona
    candidates = (run.summary or {}).get("candidates", [])
    return {
        "id": run.pk,
        "name": run.name,
        "status": run.status,
        "progress": run.progress,
        "persona_version": persona.persona_version.number,
        "suite_hash": persona.suite_hash or None,
        "candidates": [{name: c.get(name) for name in FIGURES} for c in candidates],
        "created_at": run.created_at,
        "finished_at": run.finished_at,
    }


def runs_of(spec):
    return (
        BenchmarkRun.objects.for_team(spec.team)
        .filter(persona__persona_version__spec=spec)
        .select_related("persona__persona_version")
    )


class PersonaRunListView(PersonaAPIView):
    serializer_class = PersonaRunWriteSerializer

    @extend_schema(
        operation_id="personas_runs_list",
        summary="The persona's runs, newest first",
        tags=["personas"],
        responses={200: PersonaRunSerializer(many=True), **error_responses(401, 403, 404)},
    )
    def get(self, request, slug: str):
        spec = self.get_spec(slug)
        page = self.paginate_queryset(runs_of(spec))
        return self.get_paginated_response([run_data(run) for run in page])

    @extend_schema(
        summary="Start a persona run: conversations turn by turn, and the adversarial suite",
        tags=["personas"],
        request=PersonaRunWriteSerializer,
        responses={201: PersonaRunSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, slug: str):
        spec = self.get_spec(slug)
        serializer = PersonaRunWriteSerializer(data=request.data, context={"team": self.team})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        versions = spec.versions.order_by("-number")
        version = versions.filter(number=data["version"]).first() if data["version"] else None
        version = version or (None if data["version"] else versions.first())
        if version is None:
            raise serializers.ValidationError({"version": [f"{slug} has no such version."]})
        dataset = Dataset.objects.for_team(self.team).filter(pk=data["dataset"]).first()
        if dataset is None:
            raise serializers.ValidationError({"dataset": ["No such dataset in this team."]})
        workload_id = None
        if data["workload"]:
            # A string reference: evaluations does not import the workloads app.
            workloads = apps.get_model("workloads", "Workload").objects.for_team(self.team)
            workload_id = workloads.filter(slug=data["workload"]).values_list("pk", flat=True)
            workload_id = workload_id.first()
            if workload_id is None:
                raise serializers.ValidationError({"workload": ["No such workload in this team."]})
        candidates = [
            CandidateSpec(
                label=c["label"], approach=c["approach"], provider=c["provider"],
                model=c["model"], prompt_slug=c["prompt"]["slug"],
                prompt_number=c["prompt"].get("version"), prompt_label=c["prompt"].get("label"),
                rag=c["rag"],
            )
            for c in data["candidates"]
        ]  # fmt: skip
        overlays = {c["label"]: c["overlay"] for c in data["candidates"] if c["overlay"]}
        try:
            run = persona_run_start(
                team=self.team, name=data["name"], persona_version=version, dataset=dataset,
                split=data["split"], candidates=candidates, overlays=overlays,
                attacks=data["attacks"], concurrency=data["concurrency"], created_by=self.actor,
                workload_id=workload_id,
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        run = runs_of(spec).get(pk=run.pk)
        return Response(run_data(run), status=status.HTTP_201_CREATED)


class PersonaRunDetailView(PersonaAPIView):
    serializer_class = PersonaRunWriteSerializer

    @extend_schema(
        summary="One persona run: per candidate the drift curve, the three consistency columns, "
        "tokens and cost per turn, and robustness per attack family",
        tags=["personas"],
        responses={200: PersonaRunSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, slug: str, run: int):
        run = get_object_or_404(runs_of(self.get_spec(slug)), pk=run)
        return Response(run_data(run))
