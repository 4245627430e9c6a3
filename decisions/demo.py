"""Demo decision records for the demo workloads (created by workloads/demo.py).

Three decisions: Taskmaster chat launched on prompt engineering, then superseded by the decision
behind its current approach; Ticket classifier's current approach. Each cites the workload's
latest worksheet when there is one and carries revisit triggers and a review-by date. The
accepted decisions match each workload's current approach, so seeding changes no approach.
Idempotent: a decision whose title already exists in the team is left alone.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from decisions.models import DecisionRecord, DecisionStatus
from decisions.services.drafts import APPROACH_PHRASES, worksheet_triggers
from decisions.services.records import decision_create
from decisions.services.status import decision_transition
from workloads.models import Approach, Workload, Worksheet

S = DecisionStatus


def seed(team, user) -> None:
    workloads = {w.slug: w for w in Workload.objects.for_team(team)}
    chat = workloads.get("taskmaster-chat")
    classifier = workloads.get("ticket-classifier")
    if chat is not None:
        _seed_chat(team, user, chat)
    if classifier is not None:
        _seed_classifier(team, user, classifier)


def _seed_chat(team, user, workload: Workload) -> None:
    today = timezone.localdate()
    current = workload.current_approach
    launch_title = "Launch Taskmaster chat on prompt engineering"
    launch = _existing(team, launch_title)
    if launch is None:
        launch = _decide(
            team,
            user,
            workload,
            title=launch_title,
            approach=Approach.PROMPT,
            date=today - dt.timedelta(days=120),
            context=(
                "Taskmaster chat is a new assistant with a persona that still changes weekly. "
                "We have no labeled conversations yet and want it in users' hands within two "
                "weeks."
            ),
            drivers=["time to market", "persona changes weekly", "no training data yet"],
            justification="it ships today, and the persona can change without retraining.",
            triggers=[
                {"metric": "monthly_requests", "comparator": ">", "threshold": 100000},
                {"metric": "latency_p99_ms", "comparator": ">", "threshold": 600},
            ],
            review_by=today - dt.timedelta(days=30),
        )
    follow_title = f"Run Taskmaster chat on {APPROACH_PHRASES[current]} at scale"
    if _existing(team, follow_title) is None:
        _decide(
            team, user, workload,
            title=follow_title,
            approach=current,
            date=today - dt.timedelta(days=30),
            context=(
                "Traffic grew past the volume we launched for and the persona has been stable "
                "for two months. The latest worksheet compares the four approaches at today's "
                "volume and prices."
            ),
            drivers=["p99 latency within the 600 ms SLA", "monthly cost",
                     "persona consistency over long conversations"],
            justification="it is what the latest worksheet supports at the current volume.",
            supersedes=[launch],
            review_by=today + dt.timedelta(days=60),
        )  # fmt: skip


def _seed_classifier(team, user, workload: Workload) -> None:
    today = timezone.localdate()
    current = workload.current_approach
    title = f"Classify support tickets with {APPROACH_PHRASES[current]}"
    if _existing(team, title) is None:
        _decide(
            team, user, workload,
            title=title,
            approach=current,
            date=today - dt.timedelta(days=14),
            context=(
                "Every support ticket is routed by a label from a fixed set. Wrong labels cost an "
                "agent's time; malformed JSON breaks the router."
            ),
            drivers=["format error rate below 5%", "cost per request", "labels change rarely"],
            justification="it meets the format-error threshold at the lowest monthly cost.",
            review_by=today + dt.timedelta(days=90),
        )  # fmt: skip


def _existing(team, title: str) -> DecisionRecord | None:
    return DecisionRecord.objects.for_team(team).filter(title=title).first()


def _decide(
    team, user, workload, *, title, approach, date, context, drivers, justification,
    triggers=None, supersedes=(), review_by=None,
) -> DecisionRecord:  # fmt: skip
    """Create, propose and accept a decision through the services, as a person would."""
    worksheet = Worksheet.objects.for_team(team).filter(workload=workload).order_by("-version")
    worksheet = worksheet.first()
    if triggers is None:
        triggers = worksheet_triggers(worksheet.inputs) if worksheet else []
    decision = decision_create(
        team=team,
        author=user,
        title=title,
        date=date,
        decision_makers=[user.username],
        consulted=["Platform team"],
        informed=["Support leads"],
        workload=workload,
        approach=approach,
        context_and_problem_statement=context,
        decision_drivers=drivers,
        considered_options=[
            {"title": a.label, "description": "", "arguments": _arguments(a, approach)}
            for a in Approach
        ],
        chosen_option=Approach(approach).label,
        justification=justification,
        confirmation="The workload's assessments check the revisit triggers after every "
        "usage push; the team reviews the decision by the review-by date.",
        revisit_triggers=triggers,
        review_by=review_by,
        supersedes=list(supersedes),
        evidence=[worksheet] if worksheet else [],
    )
    decision_transition(decision=decision, author=user, status=S.PROPOSED)
    decision_transition(decision=decision, author=user, status=S.ACCEPTED)
    return decision


def _arguments(option: Approach, chosen: str) -> list[dict]:
    generic = {
        Approach.PROMPT: [("good", "no training data or training run needed"),
                          ("bad", "every request pays for the full system prompt")],
        Approach.FINE_TUNE: [("good", "short prompts: lower cost per request and latency"),
                             ("bad", "needs labeled data and retraining when behaviour changes")],
        Approach.HYBRID: [("good", "a fine-tuned base with a short prompt for what changes"),
                          ("neutral", "two things to maintain")],
        Approach.RAG: [("good", "answers from knowledge that changes, without retraining"),
                       ("bad", "a retrieval index to run and keep fresh")],
    }  # fmt: skip
    arguments = [{"kind": kind, "text": text} for kind, text in generic[option]]
    if option == chosen:
        arguments.append({"kind": "good", "text": "best fit for the drivers above"})
    return arguments
