"""GET /api/v1/prompts/{slug}/resolve (ETag, 304) and POST …/render."""

from __future__ import annotations

import hashlib

from django.http import Http404
from django.utils.cache import patch_vary_headers
from django.utils.http import parse_etags
from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response

from prompts import content as prompt_content
from prompts import rendering, selectors
from prompts import serializers as s
from prompts.api.common import READ_ERRORS, WRITE_ERRORS, PromptAPIView, conflict, errors
from prompts.checking import TemplateInvalid
from prompts.models import PromptVersion

RESOLVE_MAX_AGE = 60  # seconds a client may reuse a resolved prompt before revalidating


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
        raise conflict(exc) from None


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
        parameters=[s.PromptQuerySerializer],
        responses={
            200: s.ResolvedPromptSerializer,
            304: OpenApiResponse(description="Unchanged since the ETag sent in If-None-Match."),
            **errors(*READ_ERRORS, 409),
        },
        tags=["prompts"],
    )
    def get(self, request, slug: str):
        query = request.query_params
        # Most services resolve production with no parameters: no serializer to run then.
        params = self.validated(s.PromptQuerySerializer, query) if query else {}
        version = _lookup(self, slug, params)
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
        responses={200: s.RenderedPromptSerializer, **errors(*WRITE_ERRORS, 409)},
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
