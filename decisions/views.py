"""Browser pages for decision records: the log, create/edit, detail with transitions, evidence
and revisions, diffs, per-workload timeline, export and import."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import BadRequest, ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from decisions import diff, forms, madr, selectors, triggers
from decisions.models import (
    DecisionRecord,
    DecisionStatus,
    EvidenceLink,
    ExportStatus,
)
from decisions.selectors import decision_for_team, decision_search, decisions_in_order
from decisions.serializers import (
    DecisionSerializer,
    DecisionWriteSerializer,
    RevisitClearSerializer,
    TransitionSerializer,
    describe,
    describe_error,
    error_paths,
)
from decisions.services import (
    archives,
    drafts,
    evidence,
    exports,
    imports,
    records,
    revisit,
    status,
)
from evaluations.models import BenchmarkRun, BenchmarkStatus
from teams.htmx import render_partial
from teams.scoping import team_view
from workloads.models import Approach, SwitchFlag, Workload, Worksheet

PAGE_SIZE = 25


def _get_decision(request: HttpRequest, number: int) -> DecisionRecord:
    decision = decision_for_team(request.team, number)
    if decision is None:
        raise Http404("No such decision")
    return decision


# --- the log --------------------------------------------------------------------------------


@team_view
def decision_list(request: HttpRequest) -> HttpResponse:
    filters = {key: request.GET.get(key, "").strip() for key in ("status", "approach", "workload")}
    q = request.GET.get("q", "").strip()
    found = decision_search(team=request.team, q=q, **filters).values_list("pk", flat=True)
    page = Paginator(found, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = decisions_in_order(request.team, page.object_list)
    query = request.GET.copy()
    query.pop("page", None)
    context = {
        "page": page,
        "filters": filters,
        "q": q,
        "query": query.urlencode(),
        "statuses": DecisionStatus.choices,
        "approaches": Approach.choices,
        "workloads": Workload.objects.for_team(request.team).only("slug", "name"),
    }
    return render_partial(request, "decisions/records/list.html", context, partial="results")


@team_view
def workload_decisions(request: HttpRequest, slug: str) -> HttpResponse:
    workload = get_object_or_404(Workload.objects.for_team(request.team), slug=slug)
    return render(request, "decisions/records/timeline.html", {"workload": workload})


# --- create and edit ------------------------------------------------------------------------


@team_view
def decision_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, None, forms.blank_data(), {})
    data = forms.posted_data(request.POST, frozen=False)
    action = request.POST.get("action", "save")
    if action != "save":
        focus = forms.apply_row_action(data, action)
        return _render_form(request, None, data, {}, focus=focus)
    serializer = DecisionWriteSerializer(data=data, context={"team": request.team})
    if not serializer.is_valid():
        return _render_form(request, None, data, error_paths(serializer.errors), status=400)
    fields = dict(serializer.validated_data)
    note = fields.pop("note", "")
    decision = records.decision_create(team=request.team, author=request.user, note=note, **fields)
    messages.success(request, f"{decision.code} created as a draft.")
    return redirect(decision)


@team_view
def decision_edit(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    stored = DecisionSerializer(decision).data
    if request.method != "POST":
        return _render_form(request, decision, stored, {})
    data = forms.posted_data(request.POST, frozen=decision.is_frozen)
    action = request.POST.get("action", "save")
    if action != "save":
        focus = forms.apply_row_action(data, action)
        return _render_form(request, decision, {**stored, **data}, {}, focus=focus)
    try:
        _save(request, decision, data)
    except ValidationError as exc:
        return _render_form(request, decision, {**stored, **data}, exc.message_dict, status=400)
    messages.success(request, f"{decision.code} saved.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


def _save(request: HttpRequest, decision: DecisionRecord, data: dict) -> None:
    serializer = DecisionWriteSerializer(
        decision, data=data, partial=True, context={"team": request.team}
    )
    if not serializer.is_valid():
        raise ValidationError(error_paths(serializer.errors))
    changes = dict(serializer.validated_data)
    note = changes.pop("note", "")
    records.decision_update(decision=decision, author=request.user, note=note, **changes)


def _render_form(request, decision, data, errors, *, focus="", status=200) -> HttpResponse:
    context = {
        "decision": decision,
        "frozen": bool(decision and decision.is_frozen),
        **forms.form_context(data, forms.form_errors(errors), focus=focus, team=request.team),
    }
    return render(request, "decisions/records/form.html", context, status=status)


# --- detail and actions ---------------------------------------------------------------------


@team_view
def decision_detail(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    revisions = list(decision.revisions.select_related("author").order_by("-number"))
    links = list(decision.evidence_links.all())
    linkable = Worksheet.objects.for_team(request.team).select_related("workload")
    if decision.workload_id:
        linkable = linkable.filter(workload_id=decision.workload_id)
    linked_ids = {link.worksheet_id for link in links}
    linked_runs = {link.benchmark_run_id for link in links}
    runs = BenchmarkRun.objects.for_team(request.team).filter(status=BenchmarkStatus.FINISHED)
    if decision.workload_id:
        runs = runs.filter(workload_id=decision.workload_id)
    context = {
        "decision": decision,
        "transitions": decision.allowed_transitions if request.membership.can_write else (),
        "revisions": revisions,
        "evidence": links,
        "linkable_worksheets": [w for w in linkable[:100] if w.pk not in linked_ids],
        "linkable_runs": [r for r in runs.only("pk", "name")[:100] if r.pk not in linked_runs],
        "trigger_words": [triggers.describe_trigger(t) for t in decision.revisit_triggers],
        "related": decision.related_links(),
    }
    return render(request, "decisions/records/detail.html", context)


@require_POST
@team_view
def decision_transition(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    posted = {
        "status": request.POST.get("status", ""),
        "superseded_by": forms.decision_numbers(request.POST.get("superseded_by", "")),
        "note": request.POST.get("note", "").strip(),
    }
    serializer = TransitionSerializer(
        data=posted, context={"team": request.team, "decision": decision}
    )
    if not serializer.is_valid():
        messages.error(request, describe(error_paths(serializer.errors)))
    else:
        _transition(request, decision, serializer.validated_data)
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


def _transition(request: HttpRequest, decision: DecisionRecord, move: dict) -> None:
    try:
        status.decision_transition(decision=decision, author=request.user, **move)
    except ValidationError as exc:
        messages.error(request, describe_error(exc))
    else:
        messages.success(request, f"{decision.code} is now {move['status']}.")


@require_POST
@team_view
def decision_from_worksheet(request: HttpRequest, worksheet_id: int) -> HttpResponse:
    worksheet = get_object_or_404(
        Worksheet.objects.for_team(request.team).select_related("workload"), pk=worksheet_id
    )
    decision = drafts.decision_create_from_worksheet(worksheet=worksheet, author=request.user)
    messages.success(
        request, f"{decision.code} drafted from the worksheet: review it, then propose it."
    )
    return redirect(decision)


@require_POST
@team_view
def decision_evidence_add(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    # One form per kind: a worksheet, or a finished benchmark run.
    kind = "benchmark_run" if "benchmark_run" in request.POST else "worksheet"
    raw = request.POST.get(kind, "")
    model = BenchmarkRun if kind == "benchmark_run" else Worksheet
    target = (
        model.objects.for_team(request.team).filter(pk=int(raw) if raw.isdigit() else None).first()
    )
    if target is None:
        messages.error(request, f"Choose a {kind.replace('_', ' ')} to link.")
    else:
        evidence.decision_add_evidence(decision=decision, author=request.user, target=target)
        messages.success(request, "Evidence linked.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


@require_POST
@team_view
def decision_evidence_remove(request: HttpRequest, number: int, link_id: int) -> HttpResponse:
    decision = _get_decision(request, number)
    link = get_object_or_404(EvidenceLink.objects.for_team(request.team), pk=link_id,
                             decision=decision)  # fmt: skip
    evidence.decision_remove_evidence(decision=decision, author=request.user, link=link)
    messages.success(request, "Evidence unlinked.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


@require_POST
@team_view
def decision_revisit_clear(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    serializer = RevisitClearSerializer(
        data={"review_by": request.POST.get("review_by", ""), "note": request.POST.get("note", "")}
    )
    if not serializer.is_valid():
        messages.error(request, describe(error_paths(serializer.errors)))
    else:
        revisit.decision_clear_revisit(
            decision=decision, author=request.user, **serializer.validated_data
        )
        messages.success(request, f"{decision.code} marked as revisited.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


@team_view
def decision_diff(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    revisions = {r.number: r for r in decision.revisions.select_related("author")}
    latest = max(revisions)
    errors: list[str] = []
    old_n = _revision(request.GET, "from", latest - 1 if latest > 1 else latest, errors)
    new_n = _revision(request.GET, "to", latest, errors)
    if old_n not in revisions or new_n not in revisions:
        raise Http404("No such revision")
    old, new = revisions[old_n], revisions[new_n]
    context = {
        "decision": decision,
        "old": old,
        "new": new,
        "changes": diff.revisions_diff(old.snapshot, new.snapshot),
        "revision_numbers": sorted(revisions, reverse=True),
        "errors": errors,
    }
    return render(request, "decisions/records/diff.html", context, status=400 if errors else 200)


def _revision(query, name: str, default: int, errors: list[str]) -> int:
    """A revision number from the query; a value that is not one is reported, not guessed."""
    raw = query.get(name, "").strip()
    if not raw:
        return default
    if not raw.isdigit():
        errors.append(f"“{raw}” is not a revision number: showing revision {default} instead.")
        return default
    return int(raw)


# --- export and import ----------------------------------------------------------------------


def _flavor(request: HttpRequest, data=None) -> str:
    flavor = (request.GET if data is None else data).get("format", "madr4")
    if flavor not in madr.FLAVORS:
        raise BadRequest(f"Unknown format: use one of {', '.join(madr.FLAVORS)}.")
    return flavor


@team_view
def decision_export(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    name, text = exports.decision_export_markdown(decision, _flavor(request))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@team_view
def decision_export_all(request: HttpRequest) -> HttpResponse:
    flavor = _flavor(request)
    if exports.export_too_large(request.team):
        messages.info(
            request,
            f"This log has more than {exports.INLINE_EXPORT_LIMIT:,} records: its export is "
            "built in the background, then downloaded here.",
        )
        return redirect(f"{reverse('decisions:export_list', args=[request.team.slug])}"
                        f"?format={flavor}")  # fmt: skip
    response = HttpResponse(exports.decisions_export_zip(team=request.team, flavor=flavor),
                            content_type="application/zip")  # fmt: skip
    name = f"{request.team.slug}-decisions-{flavor}.zip"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@team_view
def export_list(request: HttpRequest) -> HttpResponse:
    """The team's latest exports of the whole log, and a form to start one (POST)."""
    if request.method == "POST":
        export = exports.decision_export_start(
            team=request.team, flavor=_flavor(request, request.POST), user=request.user
        )
        return redirect("decisions:export_detail", team_slug=request.team.slug, pk=export.pk)
    context = {
        "exports": selectors.decision_exports(request.team),
        "flavors": madr.FLAVORS,
        "flavor": _flavor(request),
    }
    return render(request, "decisions/exports/list.html", context)


@team_view
def export_detail(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(selectors.decision_exports(request.team), pk=pk)
    return render_partial(request, "decisions/exports/detail.html", {"export": export},
                          partial="status")  # fmt: skip


@team_view
def export_download(request: HttpRequest, pk: int) -> HttpResponse:
    export = get_object_or_404(selectors.decision_exports(request.team, archive=True), pk=pk)
    if export.status != ExportStatus.DONE:
        messages.error(request, "This export is not ready to download.")
        return redirect("decisions:export_detail", team_slug=request.team.slug, pk=export.pk)
    response = HttpResponse(bytes(export.archive), content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    return response


@team_view
def decision_import(request: HttpRequest) -> HttpResponse:
    context: dict = {"results": None, "error": "", "statuses": DecisionStatus.choices,
                     "default_status": request.POST.get("default_status", "accepted")}  # fmt: skip
    if request.method != "POST":
        return render(request, "decisions/records/import.html", context)
    uploads = request.FILES.getlist("files")
    default_status = context["default_status"]
    if not uploads:
        context["error"] = "Choose a .zip archive or one or more .md files."
    elif sum(upload.size for upload in uploads) > archives.MAX_IMPORT_BYTES:
        context["error"] = f"Upload at most {archives.MAX_IMPORT_BYTES // 2**20} MiB at once."
    elif default_status not in DecisionStatus.values:
        context["error"] = f"Unknown status '{default_status}'."
    else:
        try:
            files = archives.upload_files([(u.name, u.read()) for u in uploads])
        except ValidationError as exc:
            context["error"] = " ".join(exc.messages)
        else:
            context["results"] = imports.decisions_import(
                team=request.team, author=request.user, files=files, default_status=default_status
            )
    code = 400 if context["error"] else 200
    return render(request, "decisions/records/import.html", context, status=code)


@require_POST
@team_view
def flag_start_decision(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(SwitchFlag.objects.for_team(request.team), pk=pk)
    decision = drafts.decision_create_from_flag(flag=flag, user=request.user)
    messages.success(
        request, f"{decision.code} drafted from this flag, with its assessment as evidence."
    )
    return redirect(decision)
