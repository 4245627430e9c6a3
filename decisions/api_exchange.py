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
from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    inline_serializer,
)
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response

from decisions import madr
from decisions.api import DecisionAPIView, ExportParamsSerializer, FlavorNegotiation
from decisions.models import DecisionExport, DecisionStatus, ExportStatus
from decisions.selectors import decision_exports
from decisions.services import archives, exports, imports
from teams.api.errors import error_body
from teams.api.parsers import raw_body, read_limited
from teams.api.serializers import ClosedSerializer

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
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            409: OpenApiResponse(ERROR, description="The log is too large to zip in a request."),
        },
    )
    def get(self, request):
        # A plain dict: DRF reads an empty value of a QueryDict as "not given" (the default).
        params = ExportParamsSerializer(data=request.query_params.dict())
        params.is_valid(raise_exception=True)
        flavor = params.validated_data["format"]
        if exports.export_too_large(self.team):
            detail = (f"The log has more than {exports.INLINE_EXPORT_LIMIT:,} records: start an "
                      "export with POST /api/v1/decisions/exports, then download it.")  # fmt: skip
            return Response(error_body(detail, [{"field": None, "message": detail}]),
                            status=status.HTTP_409_CONFLICT)  # fmt: skip
        data = exports.decisions_export_zip(team=self.team, flavor=flavor)
        response = HttpResponse(data, content_type="application/zip")
        name = f"{self.team.slug}-decisions-{flavor}.zip"
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


# Exports built by a worker ------------------------------------------------------------------------


class ExportStartSerializer(ClosedSerializer):
    format = serializers.ChoiceField(choices=madr.FLAVORS, default="madr4")


class ExportSerializer(serializers.ModelSerializer):
    format = serializers.CharField(source="flavor")
    progress = serializers.SerializerMethodField()
    download = serializers.SerializerMethodField(
        help_text="Where to download the archive once the export is done; null before."
    )

    class Meta:
        model = DecisionExport
        fields = ["id", "format", "status", "progress", "size", "failure", "created_at",
                  "finished_at", "download"]  # fmt: skip

    @extend_schema_field(
        inline_serializer(
            "ExportProgress",
            {"done": serializers.IntegerField(), "total": serializers.IntegerField()},
        )  # fmt: skip
    )
    def get_progress(self, export: DecisionExport) -> dict[str, int]:
        return {"done": export.done, "total": export.total}

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_download(self, export: DecisionExport) -> str | None:
        if export.status != ExportStatus.DONE:
            return None
        return reverse("api-decision-export-download", args=[export.pk])


class DecisionExportListView(DecisionAPIView):
    # Building an export reads the log and changes no record: reading is enough.
    write_scope = DecisionAPIView.read_scope

    @extend_schema(
        operation_id="decisions_exports_list",
        summary="The team's latest exports of the whole log (built in the background)",
        responses={200: ExportSerializer(many=True)},
    )
    def get(self, request):
        page = self.paginate_queryset(decision_exports(self.team))
        return self.get_paginated_response(ExportSerializer(page, many=True).data)

    @extend_schema(
        operation_id="decisions_exports_create",
        summary="Start an export of the whole log, zipped by a worker",
        description="For a log of any size (`export.zip` answers 409 past "
        f"{exports.INLINE_EXPORT_LIMIT:,} records). Poll the export, then download it.",
        request=ExportStartSerializer,
        responses={202: ExportSerializer},
    )
    def post(self, request):
        params = ExportStartSerializer(data=request.data)
        params.is_valid(raise_exception=True)
        export = exports.decision_export_start(
            team=self.team, flavor=params.validated_data["format"], user=None
        )
        found = decision_exports(self.team).get(pk=export.pk)
        return Response(ExportSerializer(found).data, status=status.HTTP_202_ACCEPTED)


class DecisionExportDetailView(DecisionAPIView):
    def get_export(self, pk: int, *, archive: bool = False) -> DecisionExport:
        export = decision_exports(self.team, archive=archive).filter(pk=pk).first()
        if export is None:
            raise NotFound(f"No export {pk} in this team.")
        return export

    @extend_schema(
        operation_id="decisions_exports_retrieve",
        summary="An export: its status and progress, and its download once done",
        responses={200: ExportSerializer},
    )
    def get(self, request, pk: int):
        return Response(ExportSerializer(self.get_export(pk)).data)


class DecisionExportDownloadView(DecisionExportDetailView):
    @extend_schema(
        operation_id="decisions_exports_download",
        summary="The zip of a finished export",
        responses={
            (200, "application/zip"): OpenApiTypes.BINARY,
            409: OpenApiResponse(ERROR, description="The export is not done."),
        },
    )
    def get(self, request, pk: int):
        export = self.get_export(pk, archive=True)
        if export.status != ExportStatus.DONE:
            detail = f"Export {pk} is {export.status}: download it once it is done."
            return Response(error_body(detail, [{"field": None, "message": detail}]),
                            status=status.HTTP_409_CONFLICT)  # fmt: skip
        response = HttpResponse(bytes(export.archive), content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
        return response
