"""REST API for ADR folders: `POST /api/v1/decisions/import` (a zip, markdown files, or both
in a multipart form; the per-file report as JSON; scope decisions:write) and
`GET /api/v1/decisions/export.zip?format=madr4|nygard|log4brains` (decisions:read).

The import view takes the bodies it needs, each by its own parser (multipart, zip, markdown),
and keeps every other body check of the API base view: the size limit (413), the charset of a
markdown body (415 unless UTF-8), and 415 for any other type. An upload that cannot be read
as a whole is a 400 with the reason and stores nothing; otherwise the answer is 200 with one
entry per file (decisions.services.imports says what each outcome means).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from decisions.api import DecisionAPIView, ExportParamsSerializer, FlavorNegotiation
from decisions.models import DecisionStatus
from decisions.services import archives, exports, imports
from teams.api.errors import error_body
from teams.api.parsers import raw_body, read_limited

ERROR = {"$ref": "#/components/schemas/Error"}
ZIP_TYPES = ("application/zip", "application/x-zip-compressed")


class _RawParser(BaseParser):
    """The body as bytes, read up to the API's size limit."""

    def parse(self, stream, media_type=None, parser_context=None) -> bytes:
        return read_limited(stream)


class ZipParser(_RawParser):
    media_type = "application/zip"


class LegacyZipParser(_RawParser):
    media_type = "application/x-zip-compressed"  # what some browsers send for .zip


class MarkdownParser(_RawParser):
    media_type = "text/markdown"


class ImportParamsSerializer(serializers.Serializer):
    default_status = serializers.ChoiceField(
        choices=DecisionStatus.choices,
        default=DecisionStatus.ACCEPTED,
        help_text="The status of a file that has none (Log4brains reads such files as accepted).",
    )
    filename = serializers.CharField(
        required=False,
        max_length=255,
        help_text="The file's name, for a text/markdown body (it gives the number and the "
        "identity a re-import matches).",
    )


class ImportedFileSerializer(serializers.Serializer):
    file = serializers.CharField(source="filename", help_text="Its path in the upload.")
    status = serializers.ChoiceField(
        choices=imports.OUTCOMES,
        help_text="imported | updated (a draft imported before) | unchanged | conflict (a frozen "
        "record the file would change) | error (nothing of the file stored) | skipped (not a "
        "record: index, template, non-markdown)",
    )
    number = serializers.IntegerField(allow_null=True)
    message = serializers.CharField()
    notes = serializers.ListField(child=serializers.CharField())


ImportReportSerializer = inline_serializer(
    "DecisionImportReport",
    {
        "counts": inline_serializer(
            "DecisionImportCounts",
            {outcome: serializers.IntegerField() for outcome in imports.OUTCOMES},
        ),
        "files": ImportedFileSerializer(many=True),
    },
)
_UPLOAD = inline_serializer(
    "DecisionImportUpload",
    {
        "files": serializers.ListField(child=serializers.FileField(), help_text=".zip or .md"),
        "default_status": serializers.ChoiceField(choices=DecisionStatus.choices, required=False),
    },
)


def _refused(message: str) -> Response:
    return Response(error_body(message), status=status.HTTP_400_BAD_REQUEST)


class DecisionImportView(DecisionAPIView):
    parser_classes = [MultiPartParser, ZipParser, LegacyZipParser, MarkdownParser]

    @extend_schema(
        operation_id="decisions_import",
        summary="Import an ADR folder (zip) or markdown files",
        description="MADR 2/3/4, Log4brains and Nygard / adr-tools files. Each file is stored "
        "whole or not at all; the report says what became of each one. Send a zip "
        "(`application/zip`), one file (`text/markdown` with `?filename=`), or a multipart "
        "form with `files`.",
        parameters=[ImportParamsSerializer],
        request={
            "multipart/form-data": _UPLOAD,
            "application/zip": OpenApiTypes.BINARY,
            "text/markdown": OpenApiTypes.BINARY,  # a file's bytes, as the zip is
        },
        responses={
            200: ImportReportSerializer,
            400: OpenApiResponse(
                ERROR,
                description="The upload cannot be read as a whole "
                "(not a zip, damaged, encrypted, unsafe names, too large "
                "unpacked): nothing was stored.",
            ),  # fmt: skip
            415: OpenApiResponse(
                ERROR,
                description="Send application/zip, text/markdown (UTF-8) or multipart/form-data.",
            ),  # fmt: skip
        },
        examples=[
            OpenApiExample(
                "Report",
                response_only=True,
                value={
                    "counts": {
                        "imported": 1,
                        "updated": 0,
                        "unchanged": 0,
                        "conflict": 0,
                        "error": 0,
                        "skipped": 1,
                    },  # fmt: skip
                    "files": [
                        {
                            "file": "doc/adr/0001-record-architecture-decisions.md",
                            "status": "imported",
                            "number": 1,
                            "message": "imported as ADR-0001",
                            "notes": [],
                        },  # fmt: skip
                        {
                            "file": "doc/adr/README.md",
                            "status": "skipped",
                            "number": None,
                            "message": "not a decision record (index, template or non-.md)",
                            "notes": [],
                        },  # fmt: skip
                    ],
                },
            )
        ],
    )
    def post(self, request):
        params = {**request.query_params.dict()}
        if hasattr(request.data, "getlist") and "default_status" in request.data:
            params["default_status"] = request.data["default_status"]
        checked = ImportParamsSerializer(data=params)
        checked.is_valid(raise_exception=True)
        uploads = self._uploads(request, checked.validated_data.get("filename"))
        if isinstance(uploads, Response):
            return uploads
        try:
            files = archives.upload_files(uploads)
        except DjangoValidationError as exc:
            return _refused(" ".join(exc.messages))
        results = imports.decisions_import(
            team=self.team,
            author=self.actor,
            files=files,
            default_status=checked.validated_data["default_status"],
        )
        counts = {
            outcome: sum(r.status == outcome for r in results) for outcome in imports.OUTCOMES
        }
        files_data = ImportedFileSerializer(results, many=True).data
        return Response({"counts": counts, "files": files_data})

    def _uploads(self, request, filename: str | None) -> list[tuple[str, bytes]] | Response:
        media = (request.content_type or "").split(";")[0].strip().lower()
        if media == "multipart/form-data":
            found = request.FILES.getlist("files")
            if not found:
                return _refused("Send the files in the multipart field 'files'.")
            return [(upload.name, upload.read()) for upload in found]
        if media in ZIP_TYPES:
            return [(filename or "upload.zip", raw_body(request))]
        if media == "text/markdown":
            if not filename:
                return _refused("Name the file: ?filename=0001-use-x.md.")
            return [(filename, raw_body(request))]
        return _refused("Send a zip, a markdown file or a multipart form with 'files'.")


class DecisionExportZipView(DecisionAPIView):
    content_negotiation_class = FlavorNegotiation

    @extend_schema(
        operation_id="decisions_export_zip",
        summary="Every decision as markdown files, zipped, with an index.md",
        description="`madr4` (default), `nygard` (read by adr-tools) or `log4brains`. An "
        "imported record keeps its source file's name.",
        parameters=[ExportParamsSerializer],
        responses={(200, "application/zip"): OpenApiTypes.BINARY},
    )
    def get(self, request):
        # A plain dict: DRF reads an empty value of a QueryDict as "not given" (the default).
        params = ExportParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        flavor = params.validated_data["format"]
        data = exports.decisions_export_zip(team=self.team, flavor=flavor)
        response = HttpResponse(data, content_type="application/zip")
        name = f"{self.team.slug}-decisions-{flavor}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
