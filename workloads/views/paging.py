"""Pages of a list that can grow: every list page shows `PAGE_SIZE` rows and links to the
others (templates/includes/pagination.html). A team with more than `PICKER_OPTIONS` workloads
types a workload's slug where a smaller one chooses it from a list."""

from __future__ import annotations

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PICKER_OPTIONS = 100


def page_of(request: HttpRequest, items, size: int) -> tuple[Page, str]:
    """The page of `items` that `?page=` asks for (the nearest one for a number out of range,
    the first for anything else), and the query string without `page` for the links."""
    page = Paginator(items, size).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return page, query.urlencode()
