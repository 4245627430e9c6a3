"""GET/POST /api/v1/prompts, GET/PATCH /api/v1/prompts/{slug}."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, extend_schema
from rest_framework import exceptions
from rest_framework.response import Response

from prompts import selectors, services
from prompts import serializers as s
from prompts.api.common import (
    READ_ERRORS,
    WRITE_ERRORS,
    PromptAPIView,
    errors,
    invalid,
    template_data,
)
from prompts.checking import SLUG_RE


class PromptListView(PromptAPIView):
    @extend_schema(
        operation_id="prompts_list",
        summary="List the team's prompt templates",
        parameters=[
            OpenApiParameter("q", description="Words in the slug, name or description"),
            OpenApiParameter("tag", description="Only templates with this tag"),
        ],
        responses={200: s.PromptTemplateSerializer(many=True), **errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request):
        params = request.query_params
        q, tag = params.get("q", "").replace("\x00", ""), params.get("tag", "")
        if tag and not SLUG_RE.match(tag):
            raise exceptions.ValidationError({"tag": ["Tags are slugs (e.g. support)."]})
        page = self.paginate_queryset(selectors.template_list(team=self.team, q=q, tag=tag))
        return self.get_paginated_response([template_data(t) for t in page])

    @extend_schema(
        summary="Create a prompt template",
        request=s.PromptTemplateWriteSerializer,
        responses={201: s.PromptTemplateSerializer, **errors(*WRITE_ERRORS)},
        examples=[
            OpenApiExample(
                "Ticket classifier",
                value={
                    "slug": "ticket-classifier",
                    "name": "Ticket classifier",
                    "description": "Routes support tickets.",
                    "tags": ["support"],
                    "protected_labels": ["production"],
                },  # fmt: skip
                request_only=True,
            )
        ],
        tags=["prompts"],
    )
    def post(self, request):
        data = self.validated(s.PromptTemplateWriteSerializer, request.data)
        try:
            template = services.prompt_template_create(team=self.team, actor=self.actor, **data)
        except DjangoValidationError as exc:
            raise invalid(exc) from None
        return Response(template_data(self.get_template(template.slug)), status=201)


class PromptDetailView(PromptAPIView):
    @extend_schema(
        summary="One prompt template",
        responses={200: s.PromptTemplateSerializer, **errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request, slug: str):
        return Response(template_data(self.get_template(slug)))

    @extend_schema(
        summary="Change name, description, tags, protected labels or the promotion gate",
        request=s.PromptTemplateUpdateSerializer,
        responses={200: s.PromptTemplateSerializer, **errors(*WRITE_ERRORS)},
        tags=["prompts"],
    )
    def patch(self, request, slug: str):
        template = self.get_template(slug)
        changes = self.validated(s.PromptTemplateUpdateSerializer, request.data)
        if "protected_labels" in changes and not self.is_admin:
            raise exceptions.PermissionDenied("Only team admins change which labels are protected.")
        services.prompt_template_update(template=template, changes=changes, actor=self.actor)
        return Response(template_data(self.get_template(slug)))


# Versions ---------------------------------------------------------------------------------------
