"""Background work of the decisions app: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from decisions.services.exports import decision_export_build
from decisions.services.revisit import decisions_flag_overdue_reviews


@shared_task(name="decisions.check_review_dates")
def check_review_dates() -> None:
    """Mark accepted decisions whose review-by date has come as needing a revisit."""
    decisions_flag_overdue_reviews()


@shared_task(name="decisions.build_export", acks_late=True)
def build_decision_export(export_id: int) -> str:
    """Zip the team's decision log into the export (progress in records as it goes)."""
    return decision_export_build(export_id=export_id)
