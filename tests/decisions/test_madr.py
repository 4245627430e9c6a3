"""MADR 4 export and MADR 2/3/4 / Nygard import of decision records (pure, no database)."""

from __future__ import annotations

import pytest

from decisions import madr

FULL_RECORD = {
    "number": 12,
    "title": "Classify tickets with a fine-tuned model",
    "status": "superseded",
    "date": "2024-03-05",
    "decision_makers": ["Alice Martin", "Bob Chen"],
    "consulted": ["Carol (ML)"],
    "informed": ["Support team", "Finance"],
    "context_and_problem_statement": "Prompted calls are slow.\n\n## Measurements\n\np99 720 ms.",
    "decision_drivers": ["Latency under 300 ms", "Format errors below 1%"],
    "considered_options": [
        {
            "title": "Prompt engineering",
            "description": "Keep the long system prompt.",
            "arguments": [
                {"kind": "good", "text": "no training cost"},
                {"kind": "neutral", "text": "same model as today"},
                {"kind": "bad", "text": "1,500 overhead tokens per request"},
            ],
        },
        {
            "title": "Fine-tuned model",
            "description": "",
            "arguments": [
                {"kind": "good", "text": "fast"},
                {"kind": "bad", "text": "$12 training"},
            ],
        },
        {"title": "Do nothing", "description": "", "arguments": []},
    ],
    "chosen_option": "Fine-tuned model",
    "justification": "it pays back in 2 months.",
    "consequences": "* Good, because latency drops\n* Bad, because we retrain quarterly",
    "confirmation": "Weekly dashboard review of p99 latency.",
    "more_information": "See the worksheet v3.",
    "approach": "fine-tune",
    "workload": "ticket-classifier",
    "revisit_triggers": [
        {"metric": "monthly_requests", "comparator": "<", "threshold": 100000},
        {"metric": "format_error_rate", "comparator": ">=", "threshold": 0.05},
    ],
    "review_by": "2025-01-31",
    "supersedes": [3, 7],
    "superseded_by": [15],
    "evidence": [{"kind": "worksheet", "workload": "ticket-classifier", "version": 3}],
}


def test_export_then_parse_keeps_every_field_of_a_full_record():
    text = madr.export_record(FULL_RECORD)

    parsed = madr.parse_record(text, madr.filename(FULL_RECORD))

    assert parsed == FULL_RECORD


def test_export_writes_madr4_front_matter_sections_and_superseded_status():
    text = madr.export_record(FULL_RECORD)

    assert text.startswith("---\nstatus: superseded by ADR-0015\ndate: 2024-03-05\n")
    assert "decision-makers: [Alice Martin, Bob Chen]" in text
    assert "\n# Classify tickets with a fine-tuned model\n" in text
    assert 'Chosen option: "Fine-tuned model", because it pays back in 2 months.' in text
    assert "* Neutral, because same model as today" in text
    headings = [line for line in text.splitlines() if line.startswith("## ")]
    assert headings == [
        "## Context and Problem Statement",
        "## Measurements",  # the context's own heading, kept as content
        "## Decision Drivers",
        "## Considered Options",
        "## Decision Outcome",
        "## Pros and Cons of the Options",
        "## More Information",
    ]
    assert [line for line in text.splitlines() if line.startswith("### ")] == [
        "### Consequences",
        "### Confirmation",
        "### Prompt engineering",
        "### Fine-tuned model",
    ]


def test_export_then_parse_keeps_a_minimal_record():
    record = {"number": 1, "title": "Record decisions", "status": "proposed"}

    parsed = madr.parse_record(madr.export_record(record), "0001-record-decisions.md")

    assert parsed["number"] == 1
    assert parsed["title"] == "Record decisions"
    assert parsed["status"] == "proposed"
    assert parsed["date"] == ""
    assert parsed["considered_options"] == []
    assert parsed["review_by"] is None
    assert parsed["supersedes"] == [] and parsed["superseded_by"] == []


@pytest.mark.parametrize(
    ("number", "title", "expected"),
    [
        (7, "Use PostgreSQL", "0007-use-postgresql.md"),
        (12, "Use PostgreSQL for search!", "0012-use-postgresql-for-search.md"),
        (3, "Café déjà vu: naïve “quotes” & more", "0003-cafe-deja-vu-naive-quotes-more.md"),
        (4, "  --Spaces   and -- dashes--  ", "0004-spaces-and-dashes.md"),
        (5, "日本語のタイトル", "0005-decision.md"),
        (12345, "Big number", "12345-big-number.md"),
    ],
)
def test_filename_is_zero_padded_number_and_ascii_dashed_title(number, title, expected):
    assert madr.filename({"number": number, "title": title}) == expected


def test_filename_slug_is_cut_at_sixty_characters_without_trailing_dash():
    name = madr.filename({"number": 1, "title": "word " * 30})

    slug = name.removeprefix("0001-").removesuffix(".md")
    assert len(slug) <= 60
    assert not slug.endswith("-")


def test_export_index_lists_every_record_by_number_with_link_status_and_date():
    records = [
        {"number": 2, "title": "Use Redis", "status": "accepted", "date": "2024-02-01"},
        {"number": 1, "title": "Use PostgreSQL", "status": "superseded", "superseded_by": [2]},
    ]

    index = madr.export_index(records)

    assert index.splitlines() == [
        "# Architecture Decision Records",
        "",
        "* [ADR-0001](0001-use-postgresql.md) Use PostgreSQL — superseded by ADR-0002, undated",
        "* [ADR-0002](0002-use-redis.md) Use Redis — accepted, 2024-02-01",
    ]


NYGARD = """# 2. Use PostgreSQL

Date: 2024-01-02

## Status

Accepted

Superceded by [3. Foo](0003-foo.md)

Supersedes [1. Record architecture decisions](0001-record-architecture-decisions.md)

## Context

We need a relational database.

## Decision

We will use PostgreSQL 16.

## Consequences

We must run backups.
"""


def test_parse_nygard_adr_tools_file():
    record = madr.parse_record(NYGARD, "doc/adr/0002-use-postgresql.md")

    assert record["number"] == 2
    assert record["title"] == "Use PostgreSQL"
    assert record["date"] == "2024-01-02"
    assert record["status"] == "superseded"
    assert record["superseded_by"] == [3]
    assert record["supersedes"] == [1]
    assert record["context_and_problem_statement"] == "We need a relational database."
    assert record["justification"] == "We will use PostgreSQL 16."
    assert record["chosen_option"] == ""
    assert record["consequences"] == "We must run backups."


def test_parse_nygard_takes_number_from_title_when_file_name_has_none():
    record = madr.parse_record(NYGARD.replace("Superceded by [3. Foo](0003-foo.md)\n", ""))

    assert record["number"] == 2
    assert record["status"] == "accepted"
    assert record["superseded_by"] == []


def test_parse_nygard_accepts_correct_spelling_superseded_by():
    text = NYGARD.replace("Superceded by", "Superseded by")

    assert madr.parse_record(text)["superseded_by"] == [3]


MADR2 = """# Use Markdown Architectural Decision Records

* Status: accepted
* Deciders: Alice, Bob
* Date: 2018-09-15

Technical Story: ISSUE-42

## Context and Problem Statement

We want to record decisions.

## Decision Drivers <!-- optional -->

* easy to write
* readable in git

## Considered Options

* MADR 2.1.0
* Nygard

## Decision Outcome

Chosen option: "MADR 2.1.0", because it is lean.

### Positive Consequences <!-- optional -->

* Structured records

### Negative Consequences <!-- optional -->

* More to learn

## Pros and Cons of the Options <!-- optional -->

### MADR 2.1.0

The lean template.

* Good, because lean
* Bad, because new

## Links <!-- optional -->

* [Log4brains](https://github.com/thomvaill/log4brains)
"""


def test_parse_madr2_log4brains_bullets_and_positive_negative_consequences():
    record = madr.parse_record(MADR2, "0003-use-madr.md")

    assert record["number"] == 3
    assert record["title"] == "Use Markdown Architectural Decision Records"
    assert record["status"] == "accepted"
    assert record["decision_makers"] == ["Alice", "Bob"]
    assert record["date"] == "2018-09-15"
    assert record["context_and_problem_statement"] == "We want to record decisions."
    assert record["decision_drivers"] == ["easy to write", "readable in git"]
    assert record["chosen_option"] == "MADR 2.1.0"
    assert record["justification"] == "it is lean."
    assert record["consequences"] == (
        "* Good, because Structured records\n* Bad, because More to learn"
    )
    assert record["considered_options"] == [
        {
            "title": "MADR 2.1.0",
            "description": "The lean template.",
            "arguments": [{"kind": "good", "text": "lean"}, {"kind": "bad", "text": "new"}],
        },
        {"title": "Nygard", "description": "", "arguments": []},
    ]
    assert record["more_information"] == (
        "Technical Story: ISSUE-42\n\n* [Log4brains](https://github.com/thomvaill/log4brains)"
    )


MADR3 = """---
status: proposed
date: 2022-05-01
deciders: Carol, Dan
consulted: [Erin]
informed: Frank
---
# Cache pages with Redis

## Context and Problem Statement

Pages are slow.

## Decision Outcome

Chosen option: "Redis", because it is fast.

### Consequences

* Good, because pages are faster

### Validation

Load test before release.
"""


def test_parse_madr3_front_matter_with_deciders():
    record = madr.parse_record(MADR3, "0004-cache-pages-with-redis.md")

    assert record["number"] == 4
    assert record["status"] == "proposed"
    assert record["date"] == "2022-05-01"
    assert record["decision_makers"] == ["Carol", "Dan"]
    assert record["consulted"] == ["Erin"]
    assert record["informed"] == ["Frank"]
    assert record["chosen_option"] == "Redis"
    assert record["justification"] == "it is fast."
    assert record["consequences"] == "* Good, because pages are faster"
    assert record["confirmation"] == "Load test before release."


def test_parse_madr4_superseded_by_status_in_front_matter():
    text = "---\nstatus: superseded by ADR-0009\n---\n# Old choice\n"

    record = madr.parse_record(text, "0002-old-choice.md")

    assert record["status"] == "superseded"
    assert record["superseded_by"] == [9]


def test_parse_ignores_headings_inside_fenced_code():
    text = "# Title\n\n## Context\n\n```\n# not a title\n## Decision\n```\n"

    record = madr.parse_record(text)

    assert record["context_and_problem_statement"] == "```\n# not a title\n## Decision\n```"
    assert record["justification"] == ""


def test_parse_bad_yaml_front_matter_raises_with_reason():
    with pytest.raises(madr.MadrError, match="front matter is not valid YAML"):
        madr.parse_record("---\nstatus: [accepted\n---\n# Title\n")


def test_parse_front_matter_that_never_ends_raises():
    with pytest.raises(madr.MadrError, match="never ends"):
        madr.parse_record("---\nstatus: accepted\n# Title\n")


def test_parse_front_matter_that_is_not_a_mapping_raises():
    with pytest.raises(madr.MadrError, match="must be a YAML mapping"):
        madr.parse_record("---\n- a\n- b\n---\n# Title\n")


def test_parse_unknown_status_raises_naming_the_status_and_the_choices():
    with pytest.raises(madr.MadrError, match=r"unknown status 'maybe': expected one of draft"):
        madr.parse_record("---\nstatus: maybe\n---\n# Title\n")


def test_parse_file_without_title_raises():
    with pytest.raises(madr.MadrError, match="no title"):
        madr.parse_record("Just some notes.\n\n## Context\n\nNothing here.\n")


def test_parse_crossover_extras_must_be_a_mapping():
    with pytest.raises(madr.MadrError, match="'crossover' must be a mapping"):
        madr.parse_record("---\ncrossover: 3\n---\n# Title\n")


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0001-use-x.md", True),
        ("doc/adr/0002-use-y.MD", True),
        ("index.md", False),
        ("docs/README.md", False),
        ("template.md", False),
        ("0003-notes.txt", False),
    ],
)
def test_is_record_filename_excludes_index_readme_template_and_non_markdown(name, expected):
    assert madr.is_record_filename(name) is expected


@pytest.mark.parametrize("title", ["Use C#", "Write the parser in F#", "Adopt C# ## 12"])
def test_export_then_parse_keeps_a_title_ending_in_hash(title):
    record = {
        "number": 1,
        "title": title,
        "status": "proposed",
        "considered_options": [
            {"title": title, "description": "", "arguments": [{"kind": "good", "text": "typed"}]},
        ],
        "chosen_option": title,
    }

    parsed = madr.parse_record(madr.export_record(record))

    assert parsed["title"] == title
    assert parsed["considered_options"] == record["considered_options"]
    assert parsed["chosen_option"] == title


def test_parse_strips_an_atx_closing_sequence_after_a_space():
    record = madr.parse_record("# Use C# ##\n\n## Context ##\n\nWhy.\n")

    assert record["title"] == "Use C#"
    assert record["context_and_problem_statement"] == "Why."


def test_parse_reads_the_evidence_kind_evaluation_of_older_exports_as_assessment():
    text = """---
status: accepted
crossover:
  number: 3
  evidence:
  - {kind: evaluation, workload: support-bot, created_at: '2026-11-30T10:00:00+00:00'}
  - {kind: worksheet, workload: support-bot, version: 2}
  - {kind: assessment, workload: support-bot, created_at: '2026-12-01T10:00:00+00:00'}
---
# Keep prompting
"""
    evidence = madr.parse_record(text, "0003-keep-prompting.md")["evidence"]

    assert [item["kind"] for item in evidence] == ["assessment", "worksheet", "assessment"]
    assert evidence[0] == {
        "kind": "assessment",
        "workload": "support-bot",
        "created_at": "2026-11-30T10:00:00+00:00",
    }
