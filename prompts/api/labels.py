"""GET /api/v1/prompts/{slug}/labels, GET/PUT …/labels/{label} (moves, rollback, history)."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response

from prompts import selectors, services
from prompts import serializers as s
from prompts.api.common import READ_ERRORS, WRITE_ERRORS, PromptAPIView, errors, invalid, label_data
from prompts.models import PromptTemplate
from teams.api.auth import request_token


class LabelListView(PromptAPIView):
    pagination_class = None  # a template has a handful of labels

    @extend_schema(
        operation_id="prompts_labels_list",
        summary="Every label with its version and history (latest is implicit)",
        responses={200: s.PromptLabelSerializer(many=True), **errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request, slug: str):
        template = self.get_template(slug)
        return Response([label_data(state) for state in selectors.labels_with_history(template)])


class LabelDetailView(PromptAPIView):
    def _state(self, template: PromptTemplate, label: str) -> selectors.LabelState:
        for state in selectors.labels_with_history(template):
            if state.label == label:
                return state
        raise Http404(f"{template.slug} has no '{label}' label.")

    @extend_schema(
        summary="One label with its history",
        responses={200: s.PromptLabelSerializer, **errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request, slug: str, label: str):
        return Response(label_data(self._state(self.get_template(slug), label)))

    @extend_schema(
        summary="Move (or create) a label: this is also how to roll back",
        description="Protected labels move only for team admins (a session, not a token). "
        "Fires the `prompt.label_moved` webhook. Pointing a label where it already points "
        "records nothing and answers 200.",
        request=s.PromptLabelMoveSerializer,
        responses={
            200: OpenApiResponse(s.PromptLabelSerializer, description="Moved, or already there."),
            201: OpenApiResponse(s.PromptLabelSerializer, description="The label was created."),
            **errors(*WRITE_ERRORS),
        },
        examples=[
            OpenApiExample(
                "Roll production back",
                value={"version": 2, "note": "v3 mislabels refunds"},
                request_only=True,
            )
        ],  # fmt: skip
        tags=["prompts"],
    )
    def put(self, request, slug: str, label: str):
        template = self.get_template(slug)
        label = self.validated(s.PromptSelectorSerializer, {"label": label})["label"]
        data = self.validated(s.PromptLabelMoveSerializer, request.data)
        try:
            moved = services.prompt_label_move(
                template=template,
                label=label,
                number=data["version"],
                note=data.get("note", ""),
                user=self.actor,
                token=request_token(request),
                is_admin=self.is_admin,
            )
        except DjangoValidationError as exc:
            raise invalid(exc) from None
        return Response(
            label_data(self._state(template, label)), status=201 if moved.created else 200
        )
