"""Decision record services: numbering, status machine, frozen body, revisions, supersession,
evidence, revisit flags, creation from a worksheet."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from rest_framework import serializers

from decisions import diff, selectors
from decisions.models import (
    DecisionConflict,
    DecisionRecord,
    DecisionRevision,
    DecisionStatus,
    EvidenceLink,
)
from decisions.serializers import DecisionSerializer, TransitionSerializer
from decisions.services.drafts import decision_create_from_worksheet
from decisions.services.evidence import decision_add_evidence, decision_remove_evidence
from decisions.services.revisit import (
    decision_clear_revisit,
    decision_revisit_check,
    decisions_flag_overdue_reviews,
)
from decisions.services.status import decision_transition
from tests.decisions.records_helpers import create, error_fields, make_worksheet, update
from tests.factories import DecisionRecordFactory, WorkloadFactory

pytestmark = pytest.mark.django_db
S = DecisionStatus
LEGAL = {
    (S.DRAFT, S.PROPOSED),
    (S.PROPOSED, S.ACCEPTED),
    (S.PROPOSED, S.REJECTED),
    (S.ACCEPTED, S.DEPRECATED),
    (S.ACCEPTED, S.SUPERSEDED),
}


def test_numbers_are_sequential_per_team(team, other_team, user):
    first = create(team, user, {"title": "One"})
    second = create(team, user, {"title": "Two"})
    elsewhere = create(other_team, None, {"title": "Other"})
    assert (first.number, second.number, elsewhere.number) == (1, 2, 1)
    assert second.code == "ADR-0002"


def test_only_title_is_required_for_a_draft(team, user):
    decision = create(team, user, {"title": "  Use   RAG  "})
    assert decision.title == "Use RAG"
    assert decision.status == S.DRAFT
    with pytest.raises(serializers.ValidationError) as caught:
        create(team, user, {})
    assert "title" in error_fields(caught.value)


def test_invalid_fields_are_each_named(team, user):
    data = {
        "title": "x",
        "approach": "magic",
        "workload": "nope",
        "considered_options": [{"title": "A", "arguments": [{"kind": "great", "text": ""}]}],
        "chosen_option": "B",
        "revisit_triggers": [{"metric": "vibes", "comparator": "~", "threshold": "lots"}],
        "review_by": "soon",
        "status": "accepted",
    }
    with pytest.raises(serializers.ValidationError) as caught:
        create(team, user, data)
    errors = error_fields(caught.value)
    assert set(errors) >= {
        "approach",
        "workload",
        "considered_options[0].arguments[0].kind",
        "considered_options[0].arguments[0].text",
        "chosen_option",
        "revisit_triggers[0].metric",
        "revisit_triggers[0].comparator",
        "revisit_triggers[0].threshold",
        "review_by",
        "status",
    }
    assert "transition" in errors["status"][0]
    assert not DecisionRecord.objects.exists()


def _in_status(team, user, status, workload=None):
    decision = DecisionRecordFactory(
        team=team, author=user, workload=workload.slug if workload else None
    )
    DecisionRecord.objects.filter(pk=decision.pk).update(status=status)
    decision.refresh_from_db()
    return decision


@pytest.mark.parametrize(("source", "target"), list(itertools.product(S.values, S.values)))
def test_status_machine_allows_exactly_the_spec_transitions(team, user, source, target):
    decision = _in_status(team, user, source)
    successor = DecisionRecordFactory(team=team, author=user, title="Successor")
    successors = [successor] if target == S.SUPERSEDED else []
    if (source, target) in LEGAL:
        decision_transition(decision=decision, author=user, status=target, superseded_by=successors)
        decision.refresh_from_db()
        assert decision.status == target
        assert decision.revisions.first().note == f"Status {source} → {target}"
    else:
        with pytest.raises(DecisionConflict) as caught:
            decision_transition(
                decision=decision, author=user, status=target, superseded_by=successors
            )
        assert f"is {source}" in caught.value.message_dict["status"][0]
        decision.refresh_from_db()
        assert decision.status == source


def test_unknown_status_is_refused(team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    move = TransitionSerializer(
        data={"status": "approved"}, context={"team": team, "decision": decision}
    )
    assert not move.is_valid()
    assert "Unknown status" in error_fields(serializers.ValidationError(move.errors))["status"][0]


def test_accepting_sets_the_workloads_approach(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    decision = _in_status(team, user, S.PROPOSED, workload=workload)
    decision_transition(decision=decision, author=user, status=S.ACCEPTED)
    workload.refresh_from_db()
    assert workload.current_approach == "fine-tune"


def test_accepting_needs_a_chosen_option_and_an_approach_for_a_workload(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    decision = create(team, user, {"title": "Undecided", "workload": workload.slug})
    decision_transition(decision=decision, author=user, status=S.PROPOSED)
    with pytest.raises(ValidationError) as caught:
        decision_transition(decision=decision, author=user, status=S.ACCEPTED)
    assert set(caught.value.message_dict) == {"chosen_option", "approach"}
    decision.refresh_from_db()
    assert decision.status == S.PROPOSED


def test_accepted_body_is_frozen_but_links_still_change(team, user):
    decision = _in_status(team, user, S.ACCEPTED)
    with pytest.raises(DecisionConflict) as caught:
        update(decision, user, {"title": "Rewritten"})
    assert "frozen" in caught.value.message_dict["title"][0]
    decision.refresh_from_db()
    assert decision.title == "Classify tickets with a fine-tuned model"

    trigger = {"metric": "latency_p99_ms", "comparator": ">", "threshold": 600}
    update(
        decision,
        user,
        {"revisit_triggers": [trigger], "review_by": "2030-01-31", "title": decision.title},
    )
    decision.refresh_from_db()
    assert decision.revisit_triggers == [trigger]
    assert decision.review_by == dt.date(2030, 1, 31)


@pytest.mark.parametrize("status", [S.ACCEPTED, S.REJECTED, S.DEPRECATED, S.SUPERSEDED])
def test_body_is_frozen_after_every_final_status(team, user, status):
    decision = _in_status(team, user, status)
    with pytest.raises(DecisionConflict):
        update(decision, user, {"consequences": "new"})


def test_every_save_stores_an_immutable_revision(team, user, member_factory):
    editor = member_factory(team, "editor")
    decision = create(team, user, {"title": "First"}, note="Hi")
    update(decision, editor, {"title": "Second"})
    update(decision, editor, {"title": "Second"})  # no change
    decision_transition(decision=decision, author=user, status=S.PROPOSED)
    revisions = list(decision.revisions.order_by("number"))
    assert [r.number for r in revisions] == [1, 2, 3]
    assert [r.author for r in revisions] == [user, editor, user]
    assert revisions[0].note == "Hi"
    assert revisions[1].note == "Changed title"
    assert revisions[1].snapshot["title"] == "Second"
    assert revisions[0].snapshot["title"] == "First"
    assert revisions[2].snapshot["status"] == "proposed"
    revisions[0].note = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        revisions[0].save()


def test_diff_between_two_revisions_shows_changed_lines_per_field(team, user):
    decision = create(
        team, user, {"title": "Plan", "context_and_problem_statement": "line one\nline two"}
    )
    update(
        decision,
        user,
        {"context_and_problem_statement": "line one\nline 2", "decision_drivers": ["cost"]},
    )
    old, new = (r.snapshot for r in decision.revisions.order_by("number"))
    changes = {c["field"]: c["lines"] for c in diff.revisions_diff(old, new)}
    assert set(changes) == {"context_and_problem_statement", "decision_drivers"}
    assert {"op": "same", "text": "line one"} in changes["context_and_problem_statement"]
    assert {"op": "del", "text": "line two"} in changes["context_and_problem_statement"]
    assert {"op": "add", "text": "line 2"} in changes["context_and_problem_statement"]
    assert changes["decision_drivers"] == [{"op": "add", "text": "cost"}]


def test_superseding_links_both_records_and_allows_several_successors(team, user):
    old = _in_status(team, user, S.ACCEPTED)
    new_a = DecisionRecordFactory(team=team, author=user, title="Successor A")
    new_b = DecisionRecordFactory(team=team, author=user, title="Successor B")
    decision_transition(
        decision=old,
        author=user,
        status=S.SUPERSEDED,
        superseded_by=[new_a, new_b],
    )
    old.refresh_from_db()
    assert old.status == S.SUPERSEDED
    assert set(old.superseded_by.all()) == {new_a, new_b}
    assert list(new_a.supersedes.all()) == [old]


def test_superseding_needs_a_successor(team, user):
    old = _in_status(team, user, S.ACCEPTED)
    with pytest.raises(ValidationError) as caught:
        decision_transition(decision=old, author=user, status=S.SUPERSEDED)
    assert "Name the decision(s)" in caught.value.message_dict["superseded_by"][0]


def test_accepting_a_successor_supersedes_the_accepted_decision_it_names(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    old = _in_status(team, user, S.ACCEPTED, workload=workload)
    new = DecisionRecordFactory(
        team=team,
        author=user,
        title="Go hybrid",
        approach="hybrid",
        workload=workload.slug,
        supersedes=[old.number],
    )
    decision_transition(decision=new, author=user, status=S.PROPOSED)
    decision_transition(decision=new, author=user, status=S.ACCEPTED)
    old.refresh_from_db()
    workload.refresh_from_db()
    assert old.status == S.SUPERSEDED
    assert old.revisions.first().note == f"Superseded by {new.code}"
    assert workload.current_approach == "hybrid"


def test_supersession_cycles_are_refused(team, user):
    a = DecisionRecordFactory(team=team, author=user, title="A")
    b = DecisionRecordFactory(team=team, author=user, title="B", supersedes=[a.number])
    c = DecisionRecordFactory(team=team, author=user, title="C", supersedes=[b.number])
    with pytest.raises(DecisionConflict) as caught:
        update(a, user, {"supersedes": [c.number]})
    assert "cycle" in caught.value.message_dict["supersedes"][0]
    with pytest.raises(serializers.ValidationError) as caught:
        update(a, user, {"supersedes": [a.number]})
    assert error_fields(caught.value) == {"supersedes": ["ADR-0001 cannot supersede itself."]}
    assert list(a.supersedes.all()) == []


def test_evidence_link_needs_exactly_its_kinds_target(team, user):
    decision = DecisionRecordFactory(team=team, author=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        EvidenceLink.objects.create(team=team, decision=decision, kind="worksheet")


def test_evidence_is_linked_both_ways_and_kept_in_revisions(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    worksheet = make_worksheet(workload, user)
    decision = _in_status(team, user, S.ACCEPTED)
    link = decision_add_evidence(decision=decision, author=user, target=worksheet)
    assert [lnk.decision for lnk in selectors.decisions_citing(worksheet)] == [decision]
    assert DecisionSerializer(decision).data["evidence"] == [
        {
            "kind": "worksheet",
            "id": worksheet.pk,
            "workload": "ticket-classifier",
            "version": 1,
            "label": "Ticket classifier worksheet v1 (recommends fine-tuned model)",
        }
    ]
    decision_remove_evidence(decision=decision, author=user, link=link)
    assert not decision.evidence_links.exists()
    snapshots = [r.snapshot["evidence"] for r in decision.revisions.order_by("number")]
    assert snapshots[-2][0]["label"].startswith("Ticket classifier worksheet v1")
    assert snapshots[-1] == []


def test_evidence_of_another_team_is_refused(team, other_team, user):
    theirs = make_worksheet(
        WorkloadFactory(team=other_team, slug="ticket-classifier", name="Ticket classifier"), None
    )
    with pytest.raises(serializers.ValidationError) as caught:
        create(team, user, {"title": "x", "evidence": [{"kind": "worksheet", "id": theirs.pk}]})
    assert "evidence[0]" in error_fields(caught.value)


def reasons_of(decision) -> list[str]:
    return [reason.text for reason in decision.revisit_reasons.all()]


def test_revisit_check_is_idempotent_merges_reasons_and_updates_them_in_place(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    decision = _in_status(team, user, S.ACCEPTED, workload=workload)
    volume = {"metric": "monthly_requests", "comparator": ">", "threshold": 100000}
    p99 = {"metric": "latency_p99_ms", "comparator": ">", "threshold": 600}
    update(decision, user, {"revisit_triggers": [volume, p99]})

    def check(**metrics) -> bool:
        return bool(decision_revisit_check(workload=workload, metrics=metrics))

    assert check(monthly_requests=200000)
    assert not check(monthly_requests=200000)
    assert check(monthly_requests=200000, latency_p99_ms=700)
    decision.refresh_from_db()
    assert decision.needs_revisit
    assert reasons_of(decision) == [
        "monthly requests is 200,000 (trigger: monthly requests > 100,000)",
        "p99 latency is 700 ms (trigger: p99 latency > 600 ms)",
    ]
    assert not check(monthly_requests=1)
    # The same trigger with a new figure replaces its sentence in place.
    assert check(monthly_requests=300000)
    assert reasons_of(decision)[0] == (
        "monthly requests is 300,000 (trigger: monthly requests > 100,000)"
    )
    assert len(reasons_of(decision)) == 2

    decision_clear_revisit(decision=decision, author=user, review_by=dt.date(2031, 1, 1))
    decision.refresh_from_db()
    assert (decision.needs_revisit, reasons_of(decision)) == (False, [])
    assert decision.revisions.first().note.startswith("Revisited and kept")


def test_revisit_check_flags_accepted_decisions_whose_triggers_fire(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    triggers = [{"metric": "monthly_requests", "comparator": ">", "threshold": 100000}]
    firing = _in_status(team, user, S.ACCEPTED, workload=workload)
    update(firing, user, {"revisit_triggers": triggers})
    quiet = _in_status(team, user, S.ACCEPTED, workload=workload)
    update(quiet, user, {"revisit_triggers": [{**triggers[0], "threshold": 500000}]})
    overdue = _in_status(team, user, S.ACCEPTED, workload=workload)
    update(overdue, user, {"review_by": "2020-01-01"})
    draft = DecisionRecordFactory(
        team=team, author=user, workload=workload.slug, revisit_triggers=triggers
    )

    flagged = decision_revisit_check(workload=workload, metrics={"monthly_requests": 120000})
    assert {d.pk for d in flagged} == {firing.pk, overdue.pk}
    firing.refresh_from_db()
    assert reasons_of(firing) == [
        "monthly requests is 120,000 (trigger: monthly requests > 100,000)"
    ]
    overdue.refresh_from_db()
    assert reasons_of(overdue) == ["review-by date 2020-01-01 has come"]
    draft.refresh_from_db()
    quiet.refresh_from_db()
    assert not draft.needs_revisit and not quiet.needs_revisit
    assert decision_revisit_check(workload=workload, metrics={"monthly_requests": 1}) == []


def test_overdue_reviews_are_flagged_by_the_sweep(team, user):
    decision = _in_status(team, user, S.ACCEPTED)
    update(decision, user, {"review_by": "2024-06-30"})
    assert decisions_flag_overdue_reviews(today=dt.date(2024, 6, 29)) == 0
    assert decisions_flag_overdue_reviews(today=dt.date(2024, 6, 30)) == 1
    assert decisions_flag_overdue_reviews(today=dt.date(2024, 7, 1)) == 0


def test_decision_from_worksheet_is_prefilled(team, user):
    workload = WorkloadFactory(team=team, slug="ticket-classifier", name="Ticket classifier")
    worksheet = make_worksheet(workload, user)
    decision = decision_create_from_worksheet(worksheet=worksheet, author=user)
    assert decision.title == "Run Ticket classifier on a fine-tuned model"
    assert decision.status == S.DRAFT
    assert decision.workload == workload
    assert decision.approach == "fine-tune"
    assert decision.chosen_option == "Fine-tuned model"
    context = decision.context_and_problem_statement
    assert "500,000 requests a month" in context
    assert "$0.005875" in context and "$2,937.50" in context  # prompted cost per request, month
    assert "pay back in 2.26 months" in context
    assert "p99 latency within the 600 ms SLA" in decision.decision_drivers
    titles = [o["title"] for o in decision.considered_options]
    assert titles == ["Prompt engineering", "Fine-tuned model", "Hybrid (fine-tune + prompt)",
                      "RAG + prompting"]  # fmt: skip
    fine_tune = decision.considered_options[1]["arguments"]
    assert {"kind": "good", "text": "the decision flowchart picks it: 1,200 labeled examples "
            "≥ 500; consistency is critical; 500,000 requests/month ≥ 10,000; accuracy target "
            "95% > 90%"} in fine_tune  # fmt: skip
    prompt = decision.considered_options[0]["arguments"]
    assert {"kind": "bad", "text": "the SLA/ROI decision function picks a fine-tuned model "
            "instead"} in prompt  # fmt: skip
    assert decision.revisit_triggers == [
        {"metric": "latency_p99_ms", "comparator": "<=", "threshold": 600},
        {"metric": "payback_months", "comparator": ">", "threshold": 3},
        {"metric": "monthly_requests", "comparator": "<", "threshold": 376744},
    ]
    assert [lnk.target for lnk in decision.evidence_links.all()] == [worksheet]
    assert DecisionRevision.objects.get(decision=decision).note == (
        "Created from Ticket classifier worksheet v1"
    )
