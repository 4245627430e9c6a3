"""GET/POST /api/v1/prompts/{slug}/versions, GET …/versions/{number}."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.response import Response

from prompts import selectors, services
from prompts import serializers as s
from prompts.api.common import (
    MAX_NUMBER,
    READ_ERRORS,
    WRITE_ERRORS,
    PromptAPIView,
    errors,
    invalid,
    version_data,
)
from teams.api.auth import request_token


class VersionListView(PromptAPIView):
    @extend_schema(
        operation_id="prompts_versions_list",
        summary="Every version, newest first",
        responses={200: s.PromptVersionSerializer(many=True), **errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request, slug: str):
        template = self.get_template(slug)
        page = self.paginate_queryset(selectors.versions_of(template))
        return self.get_paginated_response([version_data(v) for v in page])

    @extend_schema(
        summary="Save a new version (identical content to the latest: 200, no new version)",
        request=s.PromptVersionWriteSerializer,
        responses={
            201: OpenApiResponse(s.PromptVersionSavedSerializer, description="A new version."),
            200: OpenApiResponse(
                s.PromptVersionSavedSerializer,
                description="Identical to the latest: no new version.",
            ),
            **errors(*WRITE_ERRORS),
        },
        examples=[
            OpenApiExample(
                "Chat prompt",
                value={
                    "kind": "chat",
                    "messages": [
                        {"role": "system", "content": "Classify the ticket. Answer JSON."},
                        {"type": "placeholder", "name": "history"},
                        {"role": "user", "content": "Ticket: {{ ticket }}"},
                    ],
                    "model": "gpt-4o-mini",
                    "config": {"temperature": 0.1, "response_format": {"type": "json_object"}},
                    "few_shot": [{"input": "Server timeout", "output": '{"category": "incident"}'}],
                    "commit_message": "Add an incident example",
                },
                request_only=True,
            )
        ],
        tags=["prompts"],
    )
    def post(self, request, slug: str):
        template = self.get_template(slug)
        data = self.validated(s.PromptVersionWriteSerializer, request.data)
        try:
            saved = services.prompt_version_create(
                template=template, author=self.actor, token=request_token(request), **data
            )
        except DjangoValidationError as exc:
            raise invalid(exc) from None
        version = selectors.versions_of(template).get(pk=saved.version.pk)
        body = {**version_data(version), "created": saved.created, "detail": saved.detail}
        return Response(body, status=201 if saved.created else 200)


class VersionDetailView(PromptAPIView):
    @extend_schema(
        summary="One version",
        responses={200: s.PromptVersionSerializer, **errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request, slug: str, number: int):
        template = self.get_template(slug)
        version = selectors.versions_of(template).filter(number=min(number, MAX_NUMBER)).first()
        if version is None:
            raise Http404(f"{slug} has no version {number}.")
        return Response(version_data(version))


# Resolve and render -----------------------------------------------------------------------------
