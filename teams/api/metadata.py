"""What `OPTIONS` answers on every API view.

DRF's SimpleMetadata describes the fields of the view's serializer for each write method by
calling `get_object()` and `get_serializer()` on the view, which many views here do not
support (they validate in a service, or take a URL kwarg the lookup needs): that path
answered 500. The published OpenAPI schema (/api/schema/) is where fields are described, so
OPTIONS says only what the view is and what it speaks; `Allow` lists its methods.
"""

from __future__ import annotations

from django.urls import reverse
from rest_framework.metadata import SimpleMetadata


class Metadata(SimpleMetadata):
    def determine_metadata(self, request, view) -> dict:
        return {
            "name": view.get_view_name(),
            "description": view.get_view_description(),
            "renders": [renderer.media_type for renderer in view.renderer_classes],
            "parses": [parser.media_type for parser in view.parser_classes],
            "schema": reverse("api-schema"),
        }
