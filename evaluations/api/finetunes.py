"""`/api/v1/finetunes`: prepare and launch a fine-tuning job, watch it, cancel it."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field, inline_serializer
from rest_framework import serializers, status
from rest_framework.response import Response

from evaluations.api.benchmarks import PromptRefSerializer
from evaluations.api.common import error_responses, service_error
from evaluations.finetune_models import FineTuneEvent, FineTuneJob, FineTuneStatus, SystemPrompt
from evaluations.models import Dataset, Provider
from evaluations.services.finetunes import (
    DEFAULT_HYPERPARAMETERS,
    finetune_cancel,
    finetune_create,
    version_ref,
)
from evaluations.services.prices import MODEL_NAME_MESSAGE, MODEL_NAME_RE
from prompts.selectors import lookup_failure, version_lookup
from teams.api.serializers import (
    CharField,
    ChoiceField,
    ClosedSerializer,
    DecimalField,
    IntegerField,
    RegexField,
    SlugField,
)
from teams.api.views import TeamAPIView


class HyperparametersSerializer(ClosedSerializer):
    """Conservative defaults (3 epochs, batch size 4, learning-rate multiplier 1): more epochs or
    a higher rate on a narrow dataset make the model forget what it knew."""

    n_epochs = IntegerField(required=False, min_value=1, max_value=50,
                            default=DEFAULT_HYPERPARAMETERS["n_epochs"])  # fmt: skip
    batch_size = IntegerField(required=False, min_value=1, max_value=256,
                              default=DEFAULT_HYPERPARAMETERS["batch_size"])  # fmt: skip
    learning_rate_multiplier = DecimalField(
        max_digits=6, decimal_places=3, required=False, min_value=Decimal("0.001"),
        max_value=Decimal(10), default=Decimal(1),
    )  # fmt: skip


class FineTuneCreateSerializer(ClosedSerializer):
    """A job to prepare and launch; `context["team"]` is the caller's team."""

    dataset = IntegerField(min_value=1, max_value=2**63 - 1, help_text="Dataset id.")
    prompt = PromptRefSerializer()
    base_model = RegexField(MODEL_NAME_RE, max_length=200,
                            error_messages={"invalid": MODEL_NAME_MESSAGE})  # fmt: skip
    provider = IntegerField(min_value=1, max_value=2**63 - 1, help_text="Provider id.")
    hyperparameters = HyperparametersSerializer(required=False)
    workload = SlugField(required=False, allow_null=True, max_length=60,
                         help_text="Slug of the workload whose training cost this fine-tune "
                         "measures.")  # fmt: skip
    system_prompt = ChoiceField(SystemPrompt.choices, required=False, default=SystemPrompt.FULL,
                                help_text="full: the version's system prompt; minimal: its first "
                                "sentence (few-shot examples dropped); none.")  # fmt: skip
    leakage_override_reason = CharField(
        required=False, allow_blank=True, default="", max_length=2000,
        help_text="Required when the dataset fails the leakage check: why to go ahead anyway.",
    )  # fmt: skip

    def validate_dataset(self, value: int) -> Dataset:
        dataset = Dataset.objects.for_team(self.context["team"]).filter(pk=value).first()
        if dataset is None:
            raise serializers.ValidationError("No such dataset in this team.")
        return dataset

    def validate_provider(self, value: int) -> Provider:
        provider = Provider.objects.for_team(self.context["team"]).filter(pk=value).first()
        if provider is None:
            raise serializers.ValidationError("No such provider in this team.")
        return provider

    def validate_workload(self, value: str | None):
        if not value:
            return None
        # The workloads app sits to the right of this one: reached through the string foreign
        # key, never imported.
        model = FineTuneJob._meta.get_field("workload").related_model
        workload = model.objects.filter(team=self.context["team"], slug=value)
        if not workload.exists():
            raise serializers.ValidationError("No such workload in this team.")
        return workload.get()

    def validate_prompt(self, value: dict):
        team = self.context["team"]
        version = version_lookup(team=team, slug=value["slug"], label=value.get("label"),
                                 number=value.get("version"))  # fmt: skip
        if version is None:
            raise serializers.ValidationError(
                lookup_failure(
                    team=team,
                    slug=value["slug"],
                    label=value.get("label"),
                    number=value.get("version"),
                )  # fmt: skip
            )
        label = value.get("label") or ("production" if "version" not in value else None)
        ref = version_ref(version) + (f" ({label})" if label else "")
        return {"version": version, "ref": ref}


class FineTuneEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = FineTuneEvent
        fields = ["created_at", "kind", "level", "message", "data"]


def _cost(help_text: str) -> DecimalField:
    return DecimalField(
        max_digits=14, decimal_places=6, allow_null=True, min_value=0, help_text=help_text
    )


ErrorFieldSerializer = inline_serializer(
    "FineTuneError",
    {"code": serializers.CharField(), "message": serializers.CharField()},
    allow_null=True,
    help_text="Why the job failed: the provider's error code and message.",
)


class FineTuneSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(FineTuneStatus.choices, read_only=True)
    hyperparameters = serializers.SerializerMethodField()
    events = FineTuneEventSerializer(many=True, read_only=True)
    estimated_cost = _cost("USD; null when the table has no training price")
    actual_cost = _cost("USD: trained tokens × training price, once succeeded")
    error = serializers.SerializerMethodField()
    benchmark_run = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True,
        help_text="The run comparing the fine-tuned model with the production prompt, if any.",
    )  # fmt: skip

    class Meta:
        model = FineTuneJob
        fields = ["id", "status", "dataset", "prompt_ref", "provider", "base_model",
                  "system_prompt_mode", "hyperparameters", "train_examples",
                  "validation_examples", "estimated_tokens", "estimated_cost", "remote_job_id",
                  "fine_tuned_model", "trained_tokens", "actual_cost", "progress", "error",
                  "leakage_override_reason", "benchmark_run", "created_at", "launched_at",
                  "finished_at", "events"]  # fmt: skip

    @extend_schema_field(HyperparametersSerializer)
    def get_hyperparameters(self, job: FineTuneJob) -> dict:
        return job.hyperparameters

    @extend_schema_field(ErrorFieldSerializer)
    def get_error(self, job: FineTuneJob) -> dict | None:
        if not job.error_code:
            return None
        return {"code": job.error_code, "message": job.error_message}


class FineTuneCreatedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(FineTuneStatus.choices)


class FineTuneAPIView(TeamAPIView):
    """A fine-tuning job of the caller's team."""

    read_scope = "evaluations:read"
    write_scope = "evaluations:write"

    def get_job(self) -> FineTuneJob:
        events = Prefetch("events", FineTuneEvent.objects.order_by("created_at", "pk"))
        queryset = FineTuneJob.objects.for_team(self.team).prefetch_related(events)
        return get_object_or_404(queryset.defer("training_jsonl", "validation_jsonl"),
                                 pk=self.kwargs["pk"])  # fmt: skip


class FineTuneListView(FineTuneAPIView):
    """Prepare and launch a fine-tuning job."""

    serializer_class = FineTuneCreateSerializer

    @extend_schema(
        summary="Prepare a fine-tuning job from a dataset and a prompt version, and launch it",
        description="The training (and validation) JSONL is built and validated first: invalid "
        "files, or a dataset that fails the leakage check without a reason, are a 400 and "
        "nothing is stored or sent.",
        tags=["finetunes"],
        request=FineTuneCreateSerializer,
        responses={201: FineTuneCreatedSerializer, **error_responses(400, 401, 403)},
    )
    def post(self, request):
        serializer = FineTuneCreateSerializer(data=request.data, context={"team": self.team})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        hyper = {**DEFAULT_HYPERPARAMETERS, **(data.get("hyperparameters") or {})}
        try:
            job = finetune_create(
                team=self.team, dataset=data["dataset"], version=data["prompt"]["version"],
                prompt_ref=data["prompt"]["ref"], provider=data["provider"],
                base_model=data["base_model"], n_epochs=hyper["n_epochs"],
                batch_size=hyper["batch_size"],
                learning_rate_multiplier=hyper["learning_rate_multiplier"],
                system_prompt_mode=data["system_prompt"], workload=data.get("workload"),
                leakage_override_reason=data["leakage_override_reason"], created_by=self.actor,
            )  # fmt: skip
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        return Response({"id": job.pk, "status": job.status}, status=status.HTTP_201_CREATED)


class FineTuneDetailView(FineTuneAPIView):
    """One fine-tuning job."""

    serializer_class = FineTuneSerializer

    @extend_schema(
        summary="One fine-tuning job: status, model, tokens, estimated and actual cost, events",
        tags=["finetunes"],
        responses={200: FineTuneSerializer, **error_responses(401, 403, 404)},
    )
    def get(self, request, pk: int):
        return Response(FineTuneSerializer(self.get_job()).data)


class FineTuneCancelView(FineTuneAPIView):
    """Cancel a fine-tuning job."""

    serializer_class = FineTuneSerializer

    @extend_schema(
        summary="Cancel a fine-tuning job that has not finished",
        tags=["finetunes"],
        request=None,
        responses={200: FineTuneSerializer, **error_responses(400, 401, 403, 404)},
    )
    def post(self, request, pk: int):
        try:
            finetune_cancel(job=self.get_job())
        except DjangoValidationError as exc:
            raise service_error(exc) from None
        return Response(FineTuneSerializer(self.get_job()).data)
