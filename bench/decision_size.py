"""How the size of one decision record weighs on the decision log's text search and on the
record's own page: the reason for the text limits of the write schema (decisions.fields).

A team holds --decisions ordinary records (about 2 KB of text each) and one large record of
--size characters spread over its markdown fields (stored through the ORM, as a record of that
size could be before the limits). Times, median of --repeat runs: a search of the log for a
word (`decision_search`, PostgreSQL full-text when DATABASE_URL points at PostgreSQL, else
SQLite LIKE) evaluated as the log page does (count + first 25), and a GET of the large record's
page through the full middleware stack. Prints JSON. Uses a throwaway test database.

    DEBUG=1 SECRET_KEY=bench .venv/bin/python bench/decision_size.py [--size 60000] \
        [--decisions 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("CELERY_BROKER_URL", "memory://")

import django  # noqa: E402

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.auth import get_user_model  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

from decisions.fields import MAX_RECORD_TEXT  # noqa: E402
from decisions.models import DecisionRecord  # noqa: E402
from decisions.selectors import decision_search  # noqa: E402
from teams.services import team_create  # noqa: E402

PARAGRAPH = (
    "Prompted calls to the classifier take 720 ms at p99 and one answer in fifty is not valid "
    "JSON; a fine-tuned model would answer faster with a shorter prompt. "
)
FIELDS = ("context_and_problem_statement", "justification", "consequences", "more_information")


def text(size: int) -> str:
    """`size` characters of markdown paragraphs."""
    chunk = PARAGRAPH * 5 + "\n\n"
    return (chunk * (size // len(chunk) + 1))[:size]


def seed(decisions: int, size: int):
    user = get_user_model().objects.create_user("bench", password="bench")
    team = team_create(slug="bench", name="Bench", admin=user)
    DecisionRecord.objects.bulk_create(
        DecisionRecord(
            team=team, number=n, title=f"Decision {n}", **{name: text(500) for name in FIELDS}
        )  # fmt: skip
        for n in range(1, decisions + 1)
    )
    share = size // len(FIELDS)
    large = DecisionRecord.objects.create(
        team=team, number=decisions + 1, title="The large one",
        **{name: text(share) for name in FIELDS},
    )  # fmt: skip
    return user, team, large


def median_ms(run, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=MAX_RECORD_TEXT)
    parser.add_argument("--decisions", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    settings.ALLOWED_HOSTS = ["testserver"]
    databases = setup_databases(verbosity=0, interactive=False)
    try:
        user, team, large = seed(args.decisions, args.size)
        client = Client()
        client.force_login(user)

        def search():
            found = decision_search(team=team, q="classifier")
            found.count()
            list(found[:25])

        def page():
            response = client.get(large.get_absolute_url())
            assert response.status_code == 200, response.status_code

        print(json.dumps({
            "database": connection.vendor,
            "decisions": args.decisions,
            "large_record_characters": args.size,
            "search_ms": median_ms(search, args.repeat),
            "page_ms": median_ms(page, args.repeat),
        }))  # fmt: skip
    finally:
        teardown_databases(databases, verbosity=0)


if __name__ == "__main__":
    main()
