"""`/api/v1/benchmarks`: start a run, follow its progress, read its summary and per-call rows,
cancel it (SPEC §7.3)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.response import Response

from evaluations import scoring, selectors
from evaluations.api.common import ErrorSerializer, error_responses, service_error
from evaluations.api.persona_figures import PERSONA_FIGURES, PERSONA_RUN_INFO
from evaluations.models import (
    Approach,
    BenchmarkResult,
    BenchmarkRun,
    BenchmarkStatus,
    Dataset,
    Provider,
    Split,
)
from evaluations.services.benchmarks import (
    CandidateSpec,
    benchmark_run_cancel,
    benchmark_run_start,
)
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

ALL_ITEMS = "all"
MAX_CANDIDATES = 10
MAX_CONCURRENCY = 200


# Input ------------------------------------------------------------------------------------------


class PromptRefSerializer(ClosedSerializer):
    slug = SlugField(max_length=100)
    version = IntegerField(required=False, min_value=1, max_value=2**31 - 1)
    label = SlugField(required=False, max_length=50, help_text="Default: production.")

    def validate(self, attrs: dict) -> dict:
        if "version" in attrs and "label" in attrs:
            raise serializers.ValidationError({"version": ["Give a version or a label, not both."]})
        return attrs


class CandidateInputSerializer(ClosedSerializer):
    label = CharField(max_length=100, help_text="How the candidate is named in the comparison.")
    approach = ChoiceField(Approach.choices)
    provider = IntegerField(min_value=1, max_value=2**31 - 1, help_text="A provider id.")
    model = CharField(
        max_length=200, required=False, default="", allow_blank=True,
        help_text="Default: the prompt version's model.",
    )  # fmt: skip
    prompt = PromptRefSerializer(help_text="Resolved and pinned when the run starts.")
    rag = BooleanField(
        required=False, default=False, help_text="Give the item's `context` input to the prompt."
    )

    def validate_provider(self, value: int) -> Provider:
        provider = Provider.objects.for_team(self.context["team"]).filter(pk=value).first()
        if provider is None:
            raise serializers.ValidationError(f"No provider {value} in this team.")
        return provider


class ScorerInputSerializer(ClosedSerializer):
    name = ChoiceField(scoring.SCORERS)
    needle = CharField(required=False, max_length=1000, help_text="For contains.")
    ignore_case = BooleanField(required=False, help_text="For contains.")
    pattern = CharField(required=False, max_length=1000, help_text="For regex (re.search).")
    judge = CharField(
        required=False, max_length=100,
        help_text="For llm_judge: the label of the candidate that grades.",
    )  # fmt: skip
    criteria = CharField(
        required=False, max_length=4000,
        help_text="For llm_judge: what the judge grades (a default otherwise).",
    )  # fmt: skip

    def validate(self, attrs: dict) -> dict:
        name = attrs["name"]
        if name == scoring.LLM_JUDGE and not attrs.get("judge"):
            raise serializers.ValidationError(
                {"judge": ["llm_judge needs the label of the candidate that grades."]}
            )
        if name == scoring.CONTAINS and not attrs.get("needle"):
            raise serializers.ValidationError({"needle": ["contains needs a needle."]})
        if name == scoring.REGEX:
            if not attrs.get("pattern"):
                raise serializers.ValidationError({"pattern": ["regex needs a pattern."]})
            problem = scoring.regex_error(attrs["pattern"])
            if problem:
                raise serializers.ValidationError({"pattern": [problem]})
        extra = {"needle", "ignore_case", "pattern", "judge", "criteria"} - _SETTINGS.get(
            name, set()
        )
        given = sorted(extra & set(attrs))
        if given:
            raise serializers.ValidationError({given[0]: [f"{name} takes no {given[0]}."]})
        return attrs


_SETTINGS = {scoring.CONTAINS: {"needle", "ignore_case"}, scoring.REGEX: {"pattern"},
             scoring.LLM_JUDGE: {"judge", "criteria"}}  # fmt: skip


_SCORER_OBJECT = {
    "type": "object",
    "properties": {
        "name": {"type": "string", "enum": list(scoring.SCORERS)},
        "needle": {"type": "string", "minLength": 1, "maxLength": 1000,
                   "description": "For contains."},
        "ignore_case": {"type": "boolean", "description": "For contains."},
        "pattern": {"type": "string", "minLength": 1, "maxLength": 1000,
                    "description": "For regex (re.search)."},
        "judge": {"type": "string", "minLength": 1, "maxLength": 100,
                  "description": "For llm_judge: the label of the candidate that grades."},
        "criteria": {"type": "string", "minLength": 1, "maxLength": 4000,
                     "description": "For llm_judge: what the judge grades."},
    },
    "required": ["name"],
    "additionalProperties": False,
}  # fmt: skip


@extend_schema_field({"oneOf": [{"type": "string", "enum": list(scoring.SCORERS)}, _SCORER_OBJECT]})
class ScorerField(serializers.Field):
    """A scorer name, or an object with the name and its settings."""

    def to_internal_value(self, data):
        serializer = ScorerInputSerializer(data={"name": data} if isinstance(data, str) else data)
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    def to_representation(self, value):
        return value


class BenchmarkCreateSerializer(ClosedSerializer):
    name = CharField(max_length=200)
    dataset = IntegerField(min_value=1, max_value=2**31 - 1, help_text="A dataset id.")
    split = ChoiceField([*Split.values, ALL_ITEMS], help_text="`all` runs every item.")
    candidates = serializers.ListField(
        child=CandidateInputSerializer(), min_length=1, max_length=MAX_CANDIDATES
    )
    scorers = serializers.ListField(
        child=ScorerField(), min_length=1, max_length=len(scoring.SCORERS)
    )
    concurrency = IntegerField(
        required=False, default=10, min_value=1, max_value=MAX_CONCURRENCY,
        help_text="Calls in flight per chunk.",
    )  # fmt: skip
    workload = SlugField(
        required=False, allow_null=True, default=None, max_length=60,
        help_text="The slug of a workload whose next assessment uses the measured figures.",
    )  # fmt: skip
    timeout_seconds = FloatField(required=False, default=60.0, min_value=0.1, max_value=600)
    max_retries = IntegerField(required=False, default=2, min_value=0, max_value=10)
    chunk_size = IntegerField(required=False, default=100, min_value=1, max_value=1000)
    seed = IntegerField(required=False, default=0, min_value=0, max_value=2**31 - 1,
                        help_text="Seed of the bootstrap intervals.")  # fmt: skip

    def validate_dataset(self, value: int) -> Dataset:
        dataset = Dataset.objects.for_team(self.context["team"]).filter(pk=value).first()
        if dataset is None:
            raise serializers.ValidationError(f"No dataset {value} in this team.")
        return dataset

    def validate_candidates(self, value: list[dict]) -> list[dict]:
        labels = [candidate["label"] for candidate in value]
        if len(set(labels)) != len(labels):
            raise serializers.ValidationError("Candidate labels must differ.")
        return value

    def validate_scorers(self, value: list[dict]) -> list[dict]:
        names = [scorer["name"] for scorer in value]
        if len(set(names)) != len(names):
            raise serializers.ValidationError("Each scorer at most once.")
        return value

    def validate_workload(self, value: str | None):
        if value is None:
            return None
        # The workload model is reached through the run's string foreign key: evaluations
        # never imports workloads.
        workloads = BenchmarkRun._meta.get_field("workload").related_model.objects
        workload = workloads.filter(team=self.context["team"], slug=value).first()
        if workload is None:
            raise serializers.ValidationError(f"No workload {value!r} in this team.")
        return workload.pk


def candidate_specs(candidates: list[dict]) -> list[CandidateSpec]:
    return [
        CandidateSpec(
            label=c["label"], approach=c["approach"], provider=c["provider"], model=c["model"],
            prompt_slug=c["prompt"]["slug"], prompt_number=c["prompt"].get("version"),
            prompt_label=c["prompt"].get("label"), rag=c["rag"],
        )
        for c in candidates
    ]  # fmt: skip


# Output -----------------------------------------------------------------------------------------


def _nullable_float(**kwargs) -> serializers.FloatField:
    return serializers.FloatField(allow_null=True, **kwargs)


EstimateSerializer = inline_serializer(
    "ScoreEstimate",
    {
        "value": serializers.FloatField(),
        "ci_low": serializers.FloatField(help_text="95% bootstrap interval, seeded."),
        "ci_high": serializers.FloatField(),
        "n": serializers.IntegerField(help_text="Calls scored."),
    },
    allow_null=True,
)
CandidateSummarySerializer = inline_serializer(
    "CandidateSummary",
    {
        "label": serializers.CharField(),
        "calls": serializers.IntegerField(),
        "errors": serializers.IntegerField(),
        "error_rate": _nullable_float(),
        "latency_ms": inline_serializer(
            "LatencyPercentiles",
            {"p50": _nullable_float(), "p95": _nullable_float(), "p99": _nullable_float()},
        ),
        "latency_mean_ms": _nullable_float(),
        "cost_per_request": _nullable_float(help_text="USD, mean over priced calls."),
        "cost_per_1m_input_tokens": _nullable_float(help_text="USD."),
        "priced_calls": serializers.IntegerField(),
        "mean_input_tokens": _nullable_float(),
        "scores": serializers.DictField(child=EstimateSerializer),
        **PERSONA_FIGURES,  # persona runs only (SPEC §7.5)
    },
    many=True,
)
SummarySerializer = inline_serializer(
    "BenchmarkSummary",
    {
        "candidates": CandidateSummarySerializer,
        "best": serializers.DictField(
            child=serializers.ListField(child=serializers.CharField()),
            help_text="Per metric, the labels of the best candidates (ties all listed).",
        ),
        "persona": PERSONA_RUN_INFO,
    },
    allow_null=True,
    help_text="Null until the run has finished.",
)
ProgressSerializer = inline_serializer(
    "BenchmarkProgress", {"done": serializers.IntegerField(), "total": serializers.IntegerField()}
)


class BenchmarkRunSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(BenchmarkStatus.choices)
    split = serializers.SerializerMethodField()
    workload = serializers.SlugRelatedField(slug_field="slug", read_only=True, allow_null=True)
    progress = ProgressSerializer

    class Meta:
        model = BenchmarkRun
        fields = ["id", "name", "status", "dataset", "split", "workload", "progress", "errors",
                  "created_at", "started_at", "finished_at"]  # fmt: skip

    def get_split(self, run: BenchmarkRun) -> str:
        return run.split or ALL_ITEMS


class PinnedPromptSerializer(serializers.Serializer):
    slug = serializers.CharField(source="prompt_version.template.slug")
    version = serializers.IntegerField(source="prompt_version.number")
    label = serializers.CharField(
        source="prompt_label", allow_null=True, help_text="The label it was asked by, if any."
    )
    hash = serializers.CharField(source="prompt_version.content_hash")

    def to_representation(self, instance):
        data = super().to_representation(instance)
        data["label"] = data["label"] or None
        return data


class CandidateSerializer(serializers.Serializer):
    label = serializers.CharField()
    approach = serializers.ChoiceField(Approach.choices)
    provider = serializers.IntegerField(source="provider_id")
    model = serializers.CharField()
    prompt = PinnedPromptSerializer(source="*")
    rag = serializers.BooleanField()


class BenchmarkDetailSerializer(BenchmarkRunSerializer):
    candidates = CandidateSerializer(many=True)
    scorers = serializers.ListField(child=ScorerField())
    summary = serializers.SerializerMethodField()

    class Meta(BenchmarkRunSerializer.Meta):
        fields = [*BenchmarkRunSerializer.Meta.fields, "candidates", "scorers", "concurrency",
                  "timeout_seconds", "max_retries", "chunk_size", "seed", "summary",
                  "failure"]  # fmt: skip

    @extend_schema_field(SummarySerializer)
    def get_summary(self, run: BenchmarkRun):
        return run.summary or None


class ResultSerializer(serializers.ModelSerializer):
    item_position = serializers.IntegerField(source="item.position")
    candidate = serializers.CharField(source="candidate.label")
    tokens = serializers.SerializerMethodField()
    cost = serializers.FloatField(allow_null=True, help_text="USD, from the price table.")
    scores = serializers.DictField(child=serializers.FloatField(allow_null=True))

    class Meta:
        model = BenchmarkResult
        fields = ["id", "item", "item_position", "candidate", "output", "scores",
                  "expected_label", "predicted_label", "latency_ms", "tokens", "cost", "error",
                  "error_kind", "judge_output"]  # fmt: skip

    @extend_schema_field(
        inline_serializer(
            "Tokens", {"input": serializers.IntegerField(), "output": serializers.IntegerField()}
        )  # fmt: skip
    )
    def get_tokens(self, row: BenchmarkResult) -> dict[str, int]:
        return {"input": row.input_tokens, "output": row.output_tokens}


class BenchmarkFilterSerializer(serializers.Serializer):
    """The run list's filters; a value outside them is a 400, not an empty page."""

    status = ChoiceField(BenchmarkStatus.choices, required=False)
    workload = CharField(required=False, max_length=60, help_text="Workload slug")


class ResultFilterSerializer(serializers.Serializer):
    candidate = CharField(required=False, max_length=100, help_text="Candidate label")
    errors = serializers.BooleanField(
        required=False, allow_null=True, default=None,
        help_text="true: only failed calls; false: only answers.",
    )  # fmt: skip


# Views ------------------------------------------------------------------------------------------


class BenchmarkAPIView(TeamAPIView):
    read_scope = "evaluations:read"
    write_scope = "evaluations:write"

    def get_run(self) -> BenchmarkRun:
        return get_object_or_404(selectors.benchmark_runs(self.team), pk=self.kwargs["pk"])


CREATE_EXAMPLE = {
    "name": "Few-shot vs fine-tuned",
    "dataset": 1,
    "split": "test",
    "candidates": [
        {"label": "few-shot prompt", "approach": "prompt", "provider": 1,
         "model": "demo-prompted", "prompt": {"slug": "ticket-triage", "label": "production"}},
        {"label": "fine-tuned", "approach": "fine-tune", "provider": 1,
         "model": "demo-fine-tuned", "prompt": {"slug": "ticket-triage-minimal", "version": 1}},
    ],
    "scorers": ["accuracy", "macro_f1", "json_valid", {"name": "regex", "pattern": "category"}],
    "concurrency": 20,
    "workload": "ticket-triage",
}  # fmt: skip


class BenchmarkListView(BenchmarkAPIView):
    serializer_class = BenchmarkRunSerializer

    @extend_schema(
        operation_id="benchmarks_list",
        summary="List the team's benchmark runs, newest first",
        tags=["benchmarks"],
        parameters=[BenchmarkFilterSerializer],
        responses={200: BenchmarkRunSerializer(many=True), **error_responses(400, 401, 403)},
    )
    def get(self, request):
        filters = BenchmarkFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        runs = selectors.benchmark_runs(
            self.team,
            status=filters.validated_data.get("status"),
            workload_slug=filters.validated_data.get("workload"),
        )
        page = self.paginate_queryset(runs)
        return self.get_paginated_response(BenchmarkRunSerializer(page, many=True).data)

    @extend_schema(
        summary="Start a benchmark run (candidates' prompts are resolved and pinned now)",
        tags=["benchmarks"],
        request=BenchmarkCreateSerializer,
        examples=[OpenApiExample("Two candidates", value=CREATE_EXAMPLE, request_only=True)],
        responses={
            201: inline_serializer(
                "BenchmarkCreated",
                {
                    "id": serializers.IntegerField(),
                    "status": serializers.ChoiceField(BenchmarkStatus.choices),
                },
            ),  # fmt: skip
            **error_responses(400, 401, 403),
        },
    )
    def post(self, request):
        serializer = BenchmarkCreateSerializer(data=request.data, context={"team": self.team})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            run = benchmark_run_start(
                team=self.team, name=data["name"], dataset=data["dataset"],
                split="" if data["split"] == ALL_ITEMS else data["split"],
                candidates=candidate_specs(data["candidates"]), scorers=data["scorers"],
                concurrency=data["concurrency"], workload_id=data["workload"],
                created_by=self.actor, timeout_seconds=data["timeout_seconds"],
                max_retries=data["max_retries"], chunk_size=data["chunk_size"], seed=data["seed"],
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        return Response({"id": run.pk, "status": run.status}, status=status.HTTP_201_CREATED)


class BenchmarkDetailView(BenchmarkAPIView):
    serializer_class = BenchmarkDetailSerializer

    @extend_schema(
        summary="A run: status, progress and (once finished) the per-candidate summary",
        tags=["benchmarks"],
        responses={200: BenchmarkDetailSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        run = get_object_or_404(selectors.benchmark_run_detail(self.team), pk=pk)
        return Response(BenchmarkDetailSerializer(run).data)


class BenchmarkResultsView(BenchmarkAPIView):
    serializer_class = ResultSerializer

    @extend_schema(
        operation_id="benchmarks_results_list",
        summary="The run's per-call rows, by item then candidate",
        tags=["benchmarks"],
        parameters=[ResultFilterSerializer],
        responses={200: ResultSerializer(many=True), **error_responses(400, 401, 403, 404)},
    )
    def get(self, request, pk: int):
        run = self.get_run()
        filters = ResultFilterSerializer(data=request.query_params.dict())
        filters.is_valid(raise_exception=True)
        rows = selectors.benchmark_results(
            run,
            candidate=filters.validated_data.get("candidate"),
            errors=filters.validated_data.get("errors"),
        )
        page = self.paginate_queryset(rows)
        return self.get_paginated_response(ResultSerializer(page, many=True).data)


class BenchmarkCancelView(BenchmarkAPIView):
    serializer_class = BenchmarkRunSerializer

    @extend_schema(
        summary="Cancel a queued or running run (stored results stay)",
        tags=["benchmarks"],
        request=None,
        responses={
            200: BenchmarkRunSerializer,
            409: OpenApiResponse(ErrorSerializer, description="The run has already ended."),
            **error_responses(401, 403, 404),
        },
    )
    def post(self, request, pk: int):
        run = self.get_run()
        if not benchmark_run_cancel(run=run):
            return Response(
                {"detail": f"The run has already ended ({run.status}).",
                 "errors": [{"field": None, "message": "Only a queued or running run can be "
                             "cancelled."}]},
                status=status.HTTP_409_CONFLICT,
            )  # fmt: skip
        return Response(BenchmarkRunSerializer(self.get_run()).data)
