"""/api/v1/prompts…: the registry over REST (scopes prompts:read / prompts:write).

A service fetches `GET /api/v1/prompts/{slug}/resolve` (production by default) once, caches it
for `Cache-Control: max-age`, and revalidates with `If-None-Match`: 304 while nothing it would
receive has changed. Rendering needs only prompts:read even though it is a POST.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiExample, OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response

from prompts import content as prompt_content
from prompts import rendering, selectors, services
from prompts import serializers as s
from prompts.models import PromptTemplate, PromptVersion
from prompts.rendering import TemplateInvalid
from teams.api.auth import request_token
from teams.api.views import TeamAPIView

RESOLVE_MAX_AGE = 60  # seconds a client may reuse a resolved prompt before revalidating
MAX_NUMBER = 2**31 - 1


def _errors(*codes: int) -> dict:
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


def _invalid(exc: DjangoValidationError) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        exc.message_dict if hasattr(exc, "error_dict") else exc.messages
    )


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The prompt cannot be resolved now."


def _conflict(exc: prompt_content.ContentInvalid | TemplateInvalid) -> Conflict:
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


class PromptListView(PromptAPIView):
    @extend_schema(
        operation_id="prompts_list",
        summary="List the team's prompt templates",
        parameters=[
            OpenApiParameter("q", description="Words in the slug, name or description"),
            OpenApiParameter("tag", description="Only templates with this tag"),
        ],
        responses={200: s.PromptTemplateSerializer(many=True), **_errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request):
        params = request.query_params
        q, tag = params.get("q", "").replace("\x00", ""), params.get("tag", "")
        if tag and not rendering.SLUG_RE.match(tag):
            raise exceptions.ValidationError({"tag": ["Tags are slugs (e.g. support)."]})
        page = self.paginate_queryset(selectors.template_list(team=self.team, q=q, tag=tag))
        return self.get_paginated_response([template_data(t) for t in page])

    @extend_schema(
        summary="Create a prompt template",
        request=s.PromptTemplateWriteSerializer,
        responses={201: s.PromptTemplateSerializer, **_errors(*WRITE_ERRORS)},
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
            raise _invalid(exc) from None
        return Response(template_data(self.get_template(template.slug)), status=201)


class PromptDetailView(PromptAPIView):
    @extend_schema(
        summary="One prompt template",
        responses={200: s.PromptTemplateSerializer, **_errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request, slug: str):
        return Response(template_data(self.get_template(slug)))

    @extend_schema(
        summary="Change name, description, tags, protected labels or the promotion gate",
        request=s.PromptTemplateUpdateSerializer,
        responses={200: s.PromptTemplateSerializer, **_errors(*WRITE_ERRORS)},
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


class VersionListView(PromptAPIView):
    @extend_schema(
        operation_id="prompts_versions_list",
        summary="Every version, newest first",
        responses={200: s.PromptVersionSerializer(many=True), **_errors(*READ_ERRORS)},
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
            **_errors(*WRITE_ERRORS),
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
            raise _invalid(exc) from None
        version = selectors.versions_of(template).get(pk=saved.version.pk)
        body = {**version_data(version), "created": saved.created, "detail": saved.detail}
        return Response(body, status=201 if saved.created else 200)


class VersionDetailView(PromptAPIView):
    @extend_schema(
        summary="One version",
        responses={200: s.PromptVersionSerializer, **_errors(*READ_ERRORS)},
        tags=["prompts"],
    )
    def get(self, request, slug: str, number: int):
        template = self.get_template(slug)
        version = selectors.versions_of(template).filter(number=min(number, MAX_NUMBER)).first()
        if version is None:
            raise Http404(f"{slug} has no version {number}.")
        return Response(version_data(version))


# Resolve and render -----------------------------------------------------------------------------


def _lookup(view: PromptAPIView, slug: str, params: dict) -> PromptVersion:
    label, number = params.get("label"), params.get("version")
    version = selectors.version_lookup(team=view.team, slug=slug, label=label, number=number)
    if version is None:
        raise Http404(
            selectors.lookup_failure(team=view.team, slug=slug, label=label, number=number)
        )
    return version


def _resolution(view: PromptAPIView, version: PromptVersion) -> prompt_content.Resolution:
    try:
        return selectors.version_resolution(version, view.team)
    except (prompt_content.ContentInvalid, TemplateInvalid) as exc:
        raise _conflict(exc) from None


def _matches(if_none_match: str, etag: str) -> bool:
    # If-None-Match uses the weak comparison (RFC 9110 §13.1.2): W/ prefixes are ignored.
    tags = [tag.removeprefix("W/") for tag in parse_etags(if_none_match)]
    return "*" in tags or etag in tags


class ResolveView(PromptAPIView):
    @extend_schema(
        summary="The prompt a label (default production) or version points at, ready to render",
        description=(
            "References are inlined into `messages` / `text`, so the templates render with any "
            "Jinja2. The strong `ETag` is derived from the content hash, the version, its "
            "labels and the resolved references: send it back as `If-None-Match` to get 304 "
            f"while nothing changed. `Cache-Control: private, max-age={RESOLVE_MAX_AGE}`."
        ),
        parameters=[
            OpenApiParameter("label", description="production (default), staging, latest …"),
            OpenApiParameter("version", int, description="A version number instead of a label"),
        ],
        responses={
            200: s.ResolvedPromptSerializer,
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
            **_errors(*READ_ERRORS, 409),
        },
        tags=["prompts"],
    )
    def get(self, request, slug: str):
        version = _lookup(
            self, slug, self.validated(s.PromptSelectorSerializer, request.query_params)
        )
        labels = selectors.version_labels(version)
        if version.references:
            resolution = _resolution(self, version)
            texts = [inlined.text for inlined in resolution.inlined]
            analyses = [rendering.analyze_inlined(inlined) for inlined in resolution.inlined]
            variables = sorted({name for a in analyses for name in a.variables})
            resolved = resolution.record()
        else:
            texts, variables, resolved = None, version.variables, []
        etag = _etag(version, labels, resolved)
        headers = {"ETag": etag, "Cache-Control": f"private, max-age={RESOLVE_MAX_AGE}"}
        if _matches(request.headers.get("If-None-Match", ""), etag):
            return self._vary(Response(status=status.HTTP_304_NOT_MODIFIED, headers=headers))
        body = {"slug": slug, "version": version.number, "hash": version.content_hash,
                "kind": version.kind}  # fmt: skip
        if version.kind == "chat":
            body["messages"] = _with_texts(version.messages, texts)
        else:
            body["text"] = texts[0] if texts else version.text
        body.update(model=version.model, config=version.config, few_shot=version.few_shot,
                    variables=variables, labels=labels, resolved=resolved)  # fmt: skip
        return self._vary(Response(body, headers=headers))

    @staticmethod
    def _vary(response: Response) -> Response:
        patch_vary_headers(response, ["Authorization", "Cookie"])
        return response


def _etag(version: PromptVersion, labels: list[str], resolved: list[dict]) -> str:
    parts = [version.content_hash, str(version.number), ",".join(labels),
             *(f"{ref['reference']}={ref['hash']}" for ref in resolved)]  # fmt: skip
    return '"' + hashlib.sha256("\n".join(parts).encode()).hexdigest() + '"'


def _with_texts(messages: list[dict], texts: list[str] | None) -> list[dict]:
    if texts is None:
        return messages
    contents = iter(texts)
    return [m if prompt_content.is_placeholder(m) else {**m, "content": next(contents)}
            for m in messages]  # fmt: skip


class RenderView(PromptAPIView):
    write_scope = "prompts:read"  # a POST that reads: services rendering need no write scope

    @extend_schema(
        summary="Render a label (default production) or version with variables and placeholders",
        request=s.PromptRenderSerializer,
        responses={200: s.RenderedPromptSerializer, **_errors(*WRITE_ERRORS, 409)},
        examples=[
            OpenApiExample(
                "Production with a variable and a chat history",
                value={
                    "label": "production",
                    "variables": {"ticket": "The invoice is wrong"},
                    "placeholders": {"history": [{"role": "user", "content": "Hi"}]},
                },
                request_only=True,
            )
        ],
        tags=["prompts"],
    )
    def post(self, request, slug: str):
        data = self.validated(s.PromptRenderSerializer, request.data)
        version = _lookup(self, slug, data)
        resolution = _resolution(self, version)
        try:
            rendered = prompt_content.render(
                version.content,
                resolution,
                variables=data.get("variables", {}),
                placeholders=data.get("placeholders", {}),
            )
        except prompt_content.RenderErrors as exc:
            return Response(
                {"detail": "The prompt could not be rendered.",
                 "errors": [{"field": e.field, "message": e.message} for e in exc.errors]},
                status=400,
            )  # fmt: skip
        body = {"slug": slug, "version": version.number, "hash": version.content_hash,
                "kind": version.kind}  # fmt: skip
        if rendered.messages is not None:
            body["messages"] = rendered.messages
        else:
            body["text"] = rendered.text
        body.update(
            model=version.model,
            config=version.config,
            resolved=resolution.record(),
            unused_variables=rendered.unused_variables,
            unused_placeholders=rendered.unused_placeholders,
        )
        return Response(body)


# Labels -----------------------------------------------------------------------------------------


class LabelListView(PromptAPIView):
    pagination_class = None  # a template has a handful of labels

    @extend_schema(
        operation_id="prompts_labels_list",
        summary="Every label with its version and history (latest is implicit)",
        responses={200: s.PromptLabelSerializer(many=True), **_errors(*READ_ERRORS)},
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
        responses={200: s.PromptLabelSerializer, **_errors(*READ_ERRORS)},
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
            **_errors(*WRITE_ERRORS),
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
            raise _invalid(exc) from None
        return Response(
            label_data(self._state(template, label)), status=201 if moved.created else 200
        )
