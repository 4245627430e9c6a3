"""Background work of the decisions app: each task calls one service."""

from __future__ import annotations

from celery import shared_task

from decisions.services.revisit import decisions_flag_overdue_reviews


@shared_task(name="decisions.check_review_dates")
def check_review_dates() -> None:
    """Mark accepted decisions whose review-by date has come as needing a revisit."""
    decisions_flag_overdue_reviews()
