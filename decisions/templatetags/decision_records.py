"""Template helpers for decision records, usable from any page that shows evidence or a
workload: `{% load decision_records %}`."""

from __future__ import annotations

from django import template

from decisions import selectors, triggers

register = template.Library()


@register.simple_tag
def decisions_citing(obj):
    """Evidence links citing `obj` (e.g. a worksheet), with their decisions, in one query."""
    return list(selectors.decisions_citing(obj))


@register.simple_tag
def workload_timeline(workload):
    """The workload's decisions, oldest first."""
    return list(selectors.workload_decisions(workload))


@register.simple_tag
def accepted_decision(workload):
    """The workload's current accepted decision (the latest), or None."""
    return selectors.workload_accepted_decision(workload)


@register.filter
def describe_trigger(trigger: dict) -> str:
    return triggers.describe_trigger(trigger)
