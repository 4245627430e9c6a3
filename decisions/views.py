"""Browser pages for decision records: the log, create/edit, detail with transitions, evidence
and revisions, diffs, per-workload timeline, export and import."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_POST

from decisions import triggers
from decisions.models import DecisionRecord, DecisionStatus, EvidenceLink
from decisions.services import records as svc
from teams.scoping import team_view
from workloads.models import Approach, SwitchFlag, Workload, Worksheet

PAGE_SIZE = 25
MAX_UPLOAD_BYTES = 20 * 1024 * 1024


def _get_decision(request: HttpRequest, number: int) -> DecisionRecord:
    queryset = DecisionRecord.objects.for_team(request.team).filter(number=number)
    decision = svc.decisions_with_related(queryset).first()
    if decision is None:
        raise Http404("No such decision")
    return decision


# --- the log --------------------------------------------------------------------------------


@team_view
def decision_list(request: HttpRequest) -> HttpResponse:
    filters = {key: request.GET.get(key, "").strip() for key in ("status", "approach", "workload")}
    q = request.GET.get("q", "").strip()
    queryset = svc.decision_search(team=request.team, q=q, **filters).select_related("workload")
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))
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
    template = "decisions/records/list.html"
    response = render(request, f"{template}#results" if request.htmx else template, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@team_view
def workload_decisions(request: HttpRequest, slug: str) -> HttpResponse:
    workload = get_object_or_404(Workload.objects.for_team(request.team), slug=slug)
    return render(request, "decisions/records/timeline.html", {"workload": workload})


# --- create and edit ------------------------------------------------------------------------


@team_view
def decision_create(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return _render_form(request, None, _blank_data(), {})
    data, note = _posted(request.POST, frozen=False)
    action = request.POST.get("action", "save")
    if action != "save":
        focus = _apply_row_action(data, action)
        return _render_form(request, None, data, {}, focus=focus)
    try:
        decision = svc.decision_create(team=request.team, author=request.user, data=data, note=note)
    except ValidationError as exc:
        return _render_form(request, None, data, exc.message_dict, status=400)
    messages.success(request, f"{decision.code} created as a draft.")
    return redirect(decision)


@team_view
def decision_edit(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    if request.method != "POST":
        return _render_form(request, decision, svc.decision_data(decision), {})
    data, note = _posted(request.POST, frozen=decision.is_frozen)
    action = request.POST.get("action", "save")
    if action != "save":
        focus = _apply_row_action(data, action)
        return _render_form(request, decision, {**svc.decision_data(decision), **data}, {},
                            focus=focus)  # fmt: skip
    try:
        svc.decision_update(decision=decision, author=request.user, data=data, note=note)
    except ValidationError as exc:
        merged = {**svc.decision_data(decision), **data}
        return _render_form(request, decision, merged, exc.message_dict, status=400)
    messages.success(request, f"{decision.code} saved.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


def _blank_data() -> dict:
    return {
        "date": timezone.localdate().isoformat(),
        "considered_options": [_blank_option(), _blank_option()],
        "revisit_triggers": [],
    }


def _blank_option() -> dict:
    return {"title": "", "description": "", "arguments": [{"kind": "good", "text": ""}]}


def _posted(post, *, frozen: bool) -> tuple[dict, str]:
    """The form's fields as service data (SPEC names); blank rows are dropped."""
    data: dict = {
        "revisit_triggers": _posted_triggers(post),
        "review_by": post.get("review_by", "").strip() or None,
        "supersedes": _numbers(post.get("supersedes", "")),
    }
    if not frozen:
        data.update(
            {
                "title": post.get("title", ""),
                "date": post.get("date", ""),
                "decision_makers": _split(post.get("decision_makers", ""), ","),
                "consulted": _split(post.get("consulted", ""), ","),
                "informed": _split(post.get("informed", ""), ","),
                "decision_drivers": _split(post.get("decision_drivers", ""), "\n"),
                "considered_options": _posted_options(post),
                "chosen_option": post.get("chosen_option", ""),
                "approach": post.get("approach", ""),
                "workload": post.get("workload", "") or None,
            }
        )
        for name in svc.TEXTS:
            data[name] = post.get(name, "")
    return data, post.get("note", "").strip()


def _split(text: str, separator: str) -> list[str]:
    return [part.strip() for part in text.split(separator) if part.strip()]


def _numbers(text: str) -> list:
    """ "3, ADR-0007" → [3, 7]; anything else is passed on for the service to refuse."""
    items = []
    for part in _split(text.replace(";", ","), ","):
        digits = part.upper().removeprefix("ADR-").removeprefix("ADR").strip()
        items.append(int(digits) if digits.isdigit() else part)
    return items


def _count(post, name: str) -> int:
    value = post.get(name, "0")
    return min(int(value), 50) if value.isdigit() else 0


def _posted_options(post) -> list[dict]:
    options = []
    for i in range(_count(post, "option_count")):
        prefix = f"option-{i}"
        arguments = []
        for j in range(_count(post, f"{prefix}-arg_count")):
            text = post.get(f"{prefix}-arg-{j}-text", "")
            if text.strip():
                arguments.append({"kind": post.get(f"{prefix}-arg-{j}-kind", ""), "text": text})
        title = post.get(f"{prefix}-title", "")
        description = post.get(f"{prefix}-description", "")
        if title.strip() or description.strip() or arguments:
            options.append({"title": title, "description": description, "arguments": arguments})
    return options


def _posted_triggers(post) -> list[dict]:
    rows = []
    for i in range(_count(post, "trigger_count")):
        threshold = post.get(f"trigger-{i}-threshold", "").strip()
        if threshold:
            rows.append(
                {
                    "metric": post.get(f"trigger-{i}-metric", ""),
                    "comparator": post.get(f"trigger-{i}-comparator", ""),
                    "threshold": threshold,
                }
            )
    return rows


def _apply_row_action(data: dict, action: str) -> str:
    """Add or remove an option, argument or trigger row (a plain submit, no script); returns
    the id of the input to focus."""
    options = data.setdefault("considered_options", [])
    rows = data.setdefault("revisit_triggers", [])
    verb, _, rest = action.partition(":")
    indexes = [int(x) for x in rest.split("-") if x.isdigit()]
    if verb == "add-option":
        options.append(_blank_option())
        return f"option-{len(options) - 1}-title"
    if verb == "remove-option" and indexes and indexes[0] < len(options):
        options.pop(indexes[0])
    elif verb == "add-argument" and indexes and indexes[0] < len(options):
        arguments = options[indexes[0]].setdefault("arguments", [])
        arguments.append({"kind": "good", "text": ""})
        return f"option-{indexes[0]}-arg-{len(arguments) - 1}-text"
    elif verb == "remove-argument" and len(indexes) == 2 and indexes[0] < len(options):
        arguments = options[indexes[0]].get("arguments", [])
        if indexes[1] < len(arguments):
            arguments.pop(indexes[1])
    elif verb == "add-trigger":
        rows.append({"metric": "monthly_requests", "comparator": ">", "threshold": ""})
        return f"trigger-{len(rows) - 1}-threshold"
    elif verb == "remove-trigger" and indexes and indexes[0] < len(rows):
        rows.pop(indexes[0])
    return ""


def _render_form(request, decision, data, errors, *, focus="", status=200) -> HttpResponse:
    option_rows = []
    for i, option in enumerate(data.get("considered_options") or []):
        path = f"considered_options[{i}]"
        option_rows.append(
            {
                "index": i,
                "focus": focus == f"option-{i}-title",
                "title": option.get("title", ""),
                "description": option.get("description", ""),
                "errors": _errors(
                    errors, path, f"{path}.title", f"{path}.description", f"{path}.arguments"
                ),  # fmt: skip
                "arguments": [
                    {
                        "index": j,
                        "focus": focus == f"option-{i}-arg-{j}-text",
                        "kind": argument.get("kind", "good"),
                        "text": argument.get("text", ""),
                        "errors": _errors(
                            errors,
                            f"{path}.arguments[{j}]",
                            f"{path}.arguments[{j}].kind",
                            f"{path}.arguments[{j}].text",
                        ),  # fmt: skip
                    }
                    for j, argument in enumerate(option.get("arguments") or [])
                ],
            }
        )
    trigger_rows = [
        {
            **row,
            "index": i,
            "focus": focus == f"trigger-{i}-threshold",
            "errors": _errors(
                errors,
                f"revisit_triggers[{i}]",
                f"revisit_triggers[{i}].metric",
                f"revisit_triggers[{i}].comparator",
                f"revisit_triggers[{i}].threshold",
            ),  # fmt: skip
        }
        for i, row in enumerate(data.get("revisit_triggers") or [])
    ]
    workload = data.get("workload")
    values = {
        **data,
        "workload": workload.slug if isinstance(workload, Workload) else workload or "",
        "decision_makers": ", ".join(data.get("decision_makers") or []),
        "consulted": ", ".join(data.get("consulted") or []),
        "informed": ", ".join(data.get("informed") or []),
        "decision_drivers": "\n".join(data.get("decision_drivers") or []),
        "supersedes": ", ".join(str(n) for n in data.get("supersedes") or []),
    }
    context = {
        "decision": decision,
        "frozen": bool(decision and decision.is_frozen),
        "values": values,
        "errors": errors,
        "other_errors": _errors(errors, "considered_options", "revisit_triggers", "evidence"),
        "option_rows": option_rows,
        "trigger_rows": trigger_rows,
        "focus": focus,
        "approaches": Approach.choices,
        "workloads": Workload.objects.for_team(request.team).only("slug", "name"),
        "metrics": list(triggers.METRICS.values()),
        "comparators": list(triggers.COMPARATORS),
        "argument_kinds": ("good", "neutral", "bad"),
    }
    return render(request, "decisions/records/form.html", context, status=status)


def _errors(errors: dict, *keys: str) -> list[str]:
    return [message for key in keys for message in errors.get(key, [])]


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
    context = {
        "decision": decision,
        "transitions": svc.allowed_transitions(decision) if request.membership.can_write else (),
        "revisions": revisions,
        "evidence": [
            {"link": link, "label": svc.evidence_item(link)["label"], "url": svc.evidence_url(link)}
            for link in links
        ],
        "linkable_worksheets": [w for w in linkable[:100] if w.pk not in linked_ids],
        "trigger_words": [triggers.describe_trigger(t) for t in decision.revisit_triggers],
        "review_overdue": bool(decision.review_by and decision.review_by <= timezone.localdate()),
    }
    return render(request, "decisions/records/detail.html", context)


@require_POST
@team_view
def decision_transition(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    status = request.POST.get("status", "")
    try:
        svc.decision_transition(
            decision=decision,
            author=request.user,
            status=status,
            superseded_by=_numbers(request.POST.get("superseded_by", "")),
            note=request.POST.get("note", "").strip(),
        )
    except ValidationError as exc:
        messages.error(request, svc.describe_error(exc))
    else:
        messages.success(request, f"{decision.code} is now {status}.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


@require_POST
@team_view
def decision_from_worksheet(request: HttpRequest, worksheet_id: int) -> HttpResponse:
    worksheet = get_object_or_404(
        Worksheet.objects.for_team(request.team).select_related("workload"), pk=worksheet_id
    )
    decision = svc.decision_create_from_worksheet(worksheet=worksheet, author=request.user)
    messages.success(
        request, f"{decision.code} drafted from the worksheet: review it, then propose it."
    )
    return redirect(decision)


@require_POST
@team_view
def decision_evidence_add(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    worksheet_id = request.POST.get("worksheet", "")
    worksheet = (
        Worksheet.objects.for_team(request.team)
        .filter(pk=int(worksheet_id) if worksheet_id.isdigit() else None)
        .first()
    )
    if worksheet is None:
        messages.error(request, "Choose a worksheet to link.")
    else:
        svc.decision_add_evidence(decision=decision, author=request.user, target=worksheet)
        messages.success(request, "Evidence linked.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


@require_POST
@team_view
def decision_evidence_remove(request: HttpRequest, number: int, link_id: int) -> HttpResponse:
    decision = _get_decision(request, number)
    link = get_object_or_404(EvidenceLink.objects.for_team(request.team), pk=link_id,
                             decision=decision)  # fmt: skip
    svc.decision_remove_evidence(decision=decision, author=request.user, link=link)
    messages.success(request, "Evidence unlinked.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


@require_POST
@team_view
def decision_revisit_clear(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    try:
        review_by = svc.decision_clean(
            team=request.team,
            data={"review_by": request.POST.get("review_by", "")},
            instance=decision,
        )["review_by"]
    except ValidationError as exc:
        messages.error(request, svc.describe_error(exc))
    else:
        svc.decision_clear_revisit(
            decision=decision,
            author=request.user,
            review_by=review_by,
            note=request.POST.get("note", "").strip(),
        )
        messages.success(request, f"{decision.code} marked as revisited.")
    return redirect("decisions:decision_detail", team_slug=request.team.slug, number=number)


@team_view
def decision_diff(request: HttpRequest, number: int) -> HttpResponse:
    decision = _get_decision(request, number)
    revisions = {r.number: r for r in decision.revisions.select_related("author")}
    latest = max(revisions)
    old_n = _int(request.GET.get("from"), latest - 1 if latest > 1 else latest)
    new_n = _int(request.GET.get("to"), latest)
    if old_n not in revisions or new_n not in revisions:
        raise Http404("No such revision")
    old, new = revisions[old_n], revisions[new_n]
    context = {
        "decision": decision,
        "old": old,
        "new": new,
        "changes": svc.revisions_diff(old.snapshot, new.snapshot),
        "revision_numbers": sorted(revisions, reverse=True),
    }
    return render(request, "decisions/records/diff.html", context)


def _int(raw: str | None, default: int) -> int:
    return int(raw) if raw and raw.isdigit() else default


# --- export and import ----------------------------------------------------------------------


@team_view
def decision_export(request: HttpRequest, number: int) -> HttpResponse:
    name, text = svc.decision_export_markdown(_get_decision(request, number))
    response = HttpResponse(text, content_type="text/markdown; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


@team_view
def decision_export_all(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(svc.decisions_export_zip(team=request.team),
                            content_type="application/zip")  # fmt: skip
    response["Content-Disposition"] = f'attachment; filename="{request.team.slug}-decisions.zip"'
    return response


@team_view
def decision_import(request: HttpRequest) -> HttpResponse:
    context: dict = {"results": None, "error": ""}
    if request.method == "POST":
        uploads = request.FILES.getlist("files")
        if not uploads:
            context["error"] = "Choose a .zip archive or one or more .md files."
        elif sum(upload.size for upload in uploads) > MAX_UPLOAD_BYTES:
            context["error"] = "Upload at most 20 MB at once."
        else:
            context["results"] = _import(request, uploads, context)
        status = 400 if context["error"] else 200
        return render(request, "decisions/records/import.html", context, status=status)
    return render(request, "decisions/records/import.html", context)


def _import(request, uploads, context) -> list | None:
    zips = [u for u in uploads if u.name.lower().endswith(".zip")]
    files = [(u.name, u.read()) for u in uploads if u not in zips]
    results = []
    try:
        for archive in zips:
            results += svc.decisions_import_zip(
                team=request.team, author=request.user, data=archive.read()
            )
    except ValidationError as exc:
        context["error"] = " ".join(exc.messages)
        return None
    if files:
        results += svc.decisions_import(team=request.team, author=request.user, files=files)
    return results


@require_POST
@team_view
def flag_start_decision(request: HttpRequest, pk: int) -> HttpResponse:
    flag = get_object_or_404(SwitchFlag.objects.for_team(request.team), pk=pk)
    decision = svc.decision_create_from_flag(flag=flag, user=request.user)
    messages.success(
        request, f"{decision.code} drafted from this flag, with its assessment as evidence."
    )
    return redirect(decision)
