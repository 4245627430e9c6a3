"""What every prompts API view shares: the base view, error documentation, representations."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from drf_spectacular.utils import OpenApiResponse
from rest_framework import exceptions, status

from prompts import content as prompt_content
from prompts import selectors
from prompts import serializers as s
from prompts.checking import TemplateInvalid
from prompts.models import PromptTemplate, PromptVersion
from teams.api.views import TeamAPIView

MAX_NUMBER = 2**31 - 1


def errors(*codes: int) -> dict:
    meaning = {
        400: "Invalid input: one error per field.",
        401: "No valid token or session.",
        403: "The token lacks the scope, a viewer tried to write, or the label is protected.",
        404: "No such prompt, version or label in this team.",
        409: "The stored prompt cannot be resolved or rendered now (a reference is broken).",
        413: "The body is too large.",
        415: "The body is not JSON.",
        429: "Too many requests for this token.",
    }
    return {code: OpenApiResponse(s.ERROR_BODY, description=meaning[code]) for code in codes}


READ_ERRORS = (400, 401, 403, 404, 429)
WRITE_ERRORS = (400, 401, 403, 404, 413, 415, 429)


def invalid(exc: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    )


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The prompt cannot be resolved now."


def conflict(exc: prompt_content.ContentInvalid | TemplateInvalid) -> Conflict:
    problems = exc.errors if isinstance(exc, prompt_content.ContentInvalid) else [
        ("template", str(problem)) for problem in exc.problems
    ]  # fmt: skip
    error = Conflict("; ".join(message for _, message in problems))
    error.errors = [{"field": field, "message": message} for field, message in problems]
    return error


class PromptAPIView(TeamAPIView):
    read_scope = "prompts:read"
    write_scope = "prompts:write"

    def handle_exception(self, exc):
        response = super().handle_exception(exc)
        if isinstance(exc, Conflict):
            response.data = {"detail": str(exc.detail), "errors": exc.errors}
        return response

    def get_template(self, slug: str) -> PromptTemplate:
        template = selectors.template_list(team=self.team).filter(slug=slug).first()
        if template is None:
            raise Http404("No prompt with this slug in this team.")
        return template

    def validated(self, serializer_class, data):
        serializer = serializer_class(data=data)
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    @property
    def is_admin(self) -> bool:
        membership = self.membership
        return membership is not None and membership.is_admin


def template_data(template: PromptTemplate) -> dict:
    return {
        "slug": template.slug,
        "name": template.name,
        "description": template.description,
        "tags": template.tags,
        "protected_labels": template.protected_labels,
        "gate": selectors.gate_data(template),
        "latest_version": template.latest_number,
        "labels": {row.label: row.version.number for row in template.labels.all()},
        "created_at": template.created_at,
        "updated_at": template.updated_at,
    }


def version_data(version: PromptVersion) -> dict:
    return {
        "version": version.number,
        "hash": version.content_hash,
        "kind": version.kind,
        "messages": version.messages,
        "text": version.text,
        "model": version.model,
        "config": version.config,
        "few_shot": version.few_shot,
        "commit_message": version.commit_message,
        "author": version.author_name,
        "created_at": version.created_at,
        "static_tokens": version.static_tokens,
        "variables": version.variables,
        "warnings": version.warnings,
        "references": version.references,
        "labels": selectors.version_labels(version),
    }


def label_data(state: selectors.LabelState) -> dict:
    return {
        "label": state.label,
        "version": state.version,
        "protected": state.protected,
        "implicit": state.implicit,
        "updated_at": state.updated_at,
        "history": [
            {
                "from_version": move.from_version.number if move.from_version else None,
                "to_version": move.to_version.number,
                "moved_by": move.moved_by_name,
                "moved_at": move.moved_at,
                "note": move.note,
            }
            for move in state.history
        ],
    }


# Templates --------------------------------------------------------------------------------------
