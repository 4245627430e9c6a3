"""Reading ADR files (MADR 2/3/4, Log4brains, Nygard / adr-tools) and writing the three export
flavors, without a database. The files are written the way each tool or template writes them,
and the way people edit them afterwards."""

from __future__ import annotations

import pytest

from decisions import madr
from decisions.madr.names import export_names

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
    "related": [{"kind": "Amends", "number": 2}, {"kind": "Clarified by", "number": 9}],
    "status_text": "",
    "evidence": [{"kind": "worksheet", "workload": "ticket-classifier", "version": 3}],
}


NAMES = {n: f"{n:04d}-record-{n}.md" for n in (2, 3, 7, 9, 12, 15)}
TITLES = {n: f"Record {n}" for n in NAMES}


def as_record(parsed: dict) -> dict:
    """A parsed file in the shape an export takes (references as numbers)."""
    out = {k: v for k, v in parsed.items() if k not in ("notes", "exported_by")}
    out["supersedes"] = [ref.number for ref in parsed["supersedes"]]
    out["superseded_by"] = [ref.number for ref in parsed["superseded_by"]]
    out["related"] = [{"kind": r["label"], "number": r["ref"].number} for r in parsed["related"]]
    return out


def roundtrip(record: dict, flavor: str) -> dict:
    text = madr.export_record(record, flavor, names=NAMES, titles=TITLES)
    return as_record(madr.parse_record(text, NAMES.get(record["number"], "")))


@pytest.mark.parametrize("flavor", madr.FLAVORS)
def test_every_flavor_reads_back_into_the_same_record(flavor):
    assert roundtrip(FULL_RECORD, flavor) == FULL_RECORD


@pytest.mark.parametrize("flavor", madr.FLAVORS)
def test_a_record_without_options_exports_the_chosen_line_and_reads_back_without_options(flavor):
    record = {**FULL_RECORD, "considered_options": [], "chosen_option": "",
              "justification": "We will use PostgreSQL 16."}  # fmt: skip
    text = madr.export_record(record, flavor, names=NAMES, titles=TITLES)

    if flavor != "nygard":
        assert "## Considered Options\n\n* Classify tickets with a fine-tuned model\n" in text
        assert 'Chosen option: "Classify tickets with a fine-tuned model", because We' in text
    assert roundtrip(record, flavor) == record


def test_madr4_writes_front_matter_sections_and_superseded_status():
    text = madr.export_record(FULL_RECORD, names=NAMES, titles=TITLES)

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


def test_nygard_export_has_what_adr_tools_reads():
    text = madr.export_record(FULL_RECORD, "nygard", names=NAMES, titles=TITLES)
    lines = text.splitlines()

    assert lines[0] == "# 12. Classify tickets with a fine-tuned model"
    assert lines[2] == "Date: 2024-03-05"
    status = text.split("## Status\n\n", 1)[1].split("\n## ", 1)[0]
    assert status.strip().split("\n\n") == [
        "Superseded by [15. Record 15](0015-record-15.md)",
        "Supersedes [3. Record 3](0003-record-3.md)",
        "Supersedes [7. Record 7](0007-record-7.md)",
        "Amends [2. Record 2](0002-record-2.md)",
        "Clarified by [9. Record 9](0009-record-9.md)",
    ]
    headings = [line for line in lines if line.startswith("## ")]
    assert headings[:3] == ["## Status", "## Context", "## Measurements"]
    assert {"## Decision", "## Consequences"} <= set(headings)
    assert not text.startswith("---")


def test_log4brains_export_has_the_header_list_before_the_first_section():
    text = madr.export_record(FULL_RECORD, "log4brains", names=NAMES, titles=TITLES)
    header = text.split("\n## ", 1)[0].strip().splitlines()

    assert header[0] == "# Classify tickets with a fine-tuned model"
    assert header[2:] == [
        "- Status: superseded by [0015-record-15](0015-record-15.md)",
        "- Deciders: Alice Martin, Bob Chen",
        "- Consulted: Carol (ML)",
        "- Informed: Support team, Finance",
        "- Date: 2024-03-05",
    ]
    links = text.split("## Links\n\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert links == [
        "- Supersedes [0003-record-3](0003-record-3.md)",
        "- Supersedes [0007-record-7](0007-record-7.md)",
        "- Amends [0002-record-2](0002-record-2.md)",
        "- Clarified by [0009-record-9](0009-record-9.md)",
    ]


@pytest.mark.parametrize("flavor", madr.FLAVORS)
def test_an_unknown_date_is_absent_from_every_flavor_and_stays_unknown(flavor):
    record = {**FULL_RECORD, "date": None}
    text = madr.export_record(record, flavor, names=NAMES, titles=TITLES)

    assert "date" not in text.split("\n## ", 1)[0].lower()
    assert roundtrip(record, flavor)["date"] is None


@pytest.mark.parametrize("flavor", madr.FLAVORS)
def test_a_status_kept_as_written_is_exported_as_written_and_read_back(flavor):
    record = {**FULL_RECORD, "status": "proposed", "status_text": "On hold", "superseded_by": []}
    text = madr.export_record(record, flavor, names=NAMES, titles=TITLES)

    assert "On hold" in text.split("\n## Context", 1)[0]
    back = roundtrip(record, flavor)
    assert (back["status"], back["status_text"]) == ("proposed", "On hold")


@pytest.mark.parametrize("flavor", madr.FLAVORS)
def test_a_justification_that_starts_with_a_list_goes_under_the_chosen_line(flavor):
    record = {**FULL_RECORD, "justification": "* it is fast\n* it pays back"}
    text = madr.export_record(record, flavor, names=NAMES, titles=TITLES)

    assert 'Chosen option: "Fine-tuned model", because\n\n* it is fast\n* it pays back' in text
    assert roundtrip(record, flavor)["justification"] == "* it is fast\n* it pays back"


def test_a_chosen_option_with_double_quotes_is_quoted_otherwise_and_read_back():
    title = 'Use "fast" mode'
    record = {**FULL_RECORD, "considered_options": [{"title": title, "description": "",
              "arguments": []}], "chosen_option": title}  # fmt: skip

    assert roundtrip(record, "madr4")["chosen_option"] == title


def test_export_index_lists_every_record_by_number_with_its_file_status_and_date():
    records = [
        {"number": 2, "title": "Use Redis", "status": "accepted", "date": "2024-02-01"},
        {
            "number": 1,
            "title": "Use PostgreSQL",
            "status": "superseded",
            "superseded_by": [2],
            "source_name": "20240101-use-postgresql.md",
        },  # fmt: skip
    ]

    index = madr.export_index(records, export_names(records, "madr4"))

    assert index.splitlines() == [
        "# Architecture Decision Records",
        "",
        "* [ADR-0001](20240101-use-postgresql.md) Use PostgreSQL — superseded by ADR-0002, undated",
        "* [ADR-0002](0002-use-redis.md) Use Redis — accepted, 2024-02-01",
    ]


def test_export_names_keep_source_names_rename_for_adr_tools_and_never_repeat():
    records = [
        {"number": 1, "title": "Old", "source_name": "20201028-use-x.md"},
        {"number": 2, "title": "Use X", "source_name": "0002-use-x.md"},
        {"number": 3, "title": "Use Y", "source_name": "0002-use-x.md"},
        {"number": 4, "title": "Index", "source_name": "index.md"},
    ]

    assert export_names(records, "madr4") == {
        1: "20201028-use-x.md", 2: "0002-use-x.md", 3: "0003-use-y.md", 4: "0004-index.md",
    }  # fmt: skip
    assert export_names(records, "nygard")[1] == "0001-use-x.md"


@pytest.mark.parametrize(
    ("number", "title", "expected"),
    [
        (7, "Use PostgreSQL", "0007-use-postgresql.md"),
        (3, "Café déjà vu: naïve “quotes” & more", "0003-cafe-deja-vu-naive-quotes-more.md"),
        (5, "日本語のタイトル", "0005-decision.md"),
        (12345, "Big number", "12345-big-number.md"),
    ],
)
def test_filename_is_zero_padded_number_and_ascii_dashed_title(number, title, expected):
    assert madr.filename({"number": number, "title": title}) == expected


# --- reading what tools and people write --------------------------------------------------

NYGARD = """# 2. Use PostgreSQL

Date: 2024-01-02

## Status

Accepted

Superceded by [3. Foo](0003-foo.md)

Supercedes [1. Record architecture decisions](0001-record-architecture-decisions.md)

Amends [1. Record architecture decisions](0001-record-architecture-decisions.md)

## Context

We need a relational database.

```Support::Case``` has states, written inline.

## Decision

We will use PostgreSQL 16.

## Consequences

We must run backups.
"""


def refs(refs_list) -> list[tuple[str, int | None]]:
    return [(ref.name, ref.number) for ref in refs_list]


def test_nygard_file_of_adr_tools_with_old_spellings_and_a_link_line():
    record = madr.parse_record(NYGARD, "0002-use-postgresql.md")

    assert (record["number"], record["title"], record["date"]) == (
        2,
        "Use PostgreSQL",
        "2024-01-02",
    )
    assert record["status"] == "superseded"
    assert refs(record["superseded_by"]) == [("0003-foo.md", 3)]
    assert refs(record["supersedes"]) == [("0001-record-architecture-decisions.md", 1)]
    assert [(r["label"], r["ref"].number) for r in record["related"]] == [("Amends", 1)]
    # Inline code at the start of a line is not a fence: the sections after it are still read.
    assert record["context_and_problem_statement"].endswith("has states, written inline.")
    assert record["justification"] == "We will use PostgreSQL 16."
    assert record["consequences"] == "We must run backups."
    assert record["chosen_option"] == "" and record["considered_options"] == []


@pytest.mark.parametrize(
    ("line", "relation"),
    [
        ("Supersedes [1. A](0001-a.md)", "supersedes"),
        ("Supercedes [1. A](0001-a.md)", "supersedes"),
        ("Replaces ADR-0001", "supersedes"),
        ("Superseded by [1. A](0001-a.md)", "superseded_by"),
        ("Superceded by ADR 1", "superseded_by"),
        ("superseded by [0001-a](0001-a.md)", "superseded_by"),
        ("Replaced by #1", "superseded_by"),
    ],
)
def test_every_spelling_of_supersession_is_read(line, relation):
    text = f"# 5. New\n\n## Status\n\nAccepted\n\n{line}\n\n## Context\n\nWhy.\n"

    record = madr.parse_record(text, "0005-new.md")

    assert [ref.number for ref in record[relation]] == [1]
    assert record["related"] == []


@pytest.mark.parametrize(
    ("line", "label"),
    [
        ("Amended by [7. Later](0007-later.md)", "Amended by"),
        ("Clarifies [1. A](0001-a.md)", "Clarifies"),
        ("Depends on ADR-0003", "Depends on"),
        ("Is the opposite of [2. B](0002-b.md)", "Is the opposite of"),  # a custom `adr link`
    ],
)
def test_other_relation_lines_become_typed_links(line, label):
    record = madr.parse_record(f"# 4. X\n\n## Status\n\nAccepted\n\n{line}\n", "0004-x.md")

    assert [r["label"] for r in record["related"]] == [label]
    assert record["status"] == "accepted"


def test_madr2_links_section_relations_become_links_and_other_links_stay_text():
    text = """# Use X

* Status: accepted

## Links

* Refined by [ADR-0005](0005-example.md)
* [Log4brains](https://github.com/thomvaill/log4brains)
"""
    record = madr.parse_record(text, "0003-use-x.md")

    assert [(r["label"], r["ref"]) for r in record["related"]] == [
        ("Refined by", madr.Ref(name="0005-example.md", number=5))
    ]
    assert record["more_information"] == "* [Log4brains](https://github.com/thomvaill/log4brains)"


OPTIONS = """# Pick a store

## Considered Options

* MADR 2.1.0 - the lean template
* Nygard
* [Y-statements](https://example.org/y)

## Decision Outcome

{chosen}
"""


@pytest.mark.parametrize(
    ("chosen", "expected"),
    [
        ('Chosen option: "MADR 2.1.0 - the lean template", because it is lean.', "exact"),
        ('Chosen option: "nygard".', "Nygard"),
        ("Chosen option: 'Nygard', because it is short.", "Nygard"),
        ("Chosen option: “Nygard”, because it is short.", "Nygard"),
        ("Chosen option: **Nygard**, because it is short.", "Nygard"),
        ("Chosen option: Nygard, because it is short.", "Nygard"),
        ('Chosen option: "MADR 2.1.0", because it is lean.', "MADR 2.1.0 - the lean template"),
        ('Chosen option: "Y-statements", because', "[Y-statements](https://example.org/y)"),
        ("**Chosen option:** [Nygard](#nygard), because it is short.", "Nygard"),
        ("Chosen option: Option 2, because it is short.", "Nygard"),
    ],
)
def test_the_chosen_option_is_matched_leniently_and_stored_as_the_options_title(chosen, expected):
    record = madr.parse_record(OPTIONS.format(chosen=chosen), "0001-pick.md")

    titles = [option["title"] for option in record["considered_options"]]
    assert record["chosen_option"] == (titles[0] if expected == "exact" else expected)
    assert "Chosen option" not in record["justification"]


def test_a_chosen_option_that_names_no_option_is_kept_as_written_with_a_note():
    text = OPTIONS.format(chosen='Chosen option: "Something else", because reasons.')

    record = madr.parse_record(text, "0001-pick.md")

    assert record["chosen_option"] == "Something else"
    assert record["justification"] == "reasons."
    assert record["notes"] == [
        "chosen option 'Something else' is none of the considered options: kept as written"
    ]


def test_nested_bullets_under_an_option_are_its_description_not_options():
    text = """# Pick

## Considered Options

* Redis
  * in memory
  * needs a server
* Memcached

## Pros and Cons of the Options

### Redis

* Good, because fast
  and simple
* Bad, because
  * another server
* plain remark

```
- Good, because inside a fence
```

### Memcached

Pros:

* tiny

Cons:

* no persistence
"""
    options = madr.parse_record(text, "0001-pick.md")["considered_options"]

    assert [option["title"] for option in options] == ["Redis", "Memcached"]
    redis, memcached = options
    assert redis["description"].startswith("* in memory\n* needs a server\n\n* plain remark")
    assert "- Good, because inside a fence" in redis["description"]
    assert redis["arguments"] == [
        {"kind": "good", "text": "fast and simple"},
        {"kind": "bad", "text": "* another server"},
    ]
    assert memcached["arguments"] == [
        {"kind": "good", "text": "tiny"},
        {"kind": "bad", "text": "no persistence"},
    ]


@pytest.mark.parametrize(
    ("status", "expected", "kept"),
    [
        ("approved", "accepted", ""),
        ("Superceded", "superseded", ""),
        ("Accepted on 2020-01-02", "accepted", ""),
        ("WIP", "draft", ""),
        ("![Accepted](https://img.shields.io/badge/status-accepted-green)", "accepted", ""),
        ("![Status](https://img.shields.io/badge/status-deprecated-red)", "deprecated", ""),
        ("On hold", "proposed", "On hold"),
    ],
)
def test_statuses_are_read_by_synonym_and_badge_and_unknown_ones_kept_as_written(
    status, expected, kept
):
    nygard = madr.parse_record(f"# 1. X\n\n## Status\n\n{status}\n", "0001-x.md")
    log4brains = madr.parse_record(f"# X\n\n- Status: {status}\n\n## Context\n", "x.md")

    for record in (nygard, log4brains):
        assert (record["status"], record["status_text"]) == (expected, kept)


def test_the_last_status_of_a_status_history_wins_and_a_heading_can_hold_it():
    history = "# 1. X\n\n## Status\n\n2020-01-01 proposed\n2020-02-01 accepted\n"
    heading = "# 1. X\n\n## Status: Deprecated\n\n## Context\n\nWhy.\n"

    assert madr.parse_record(history)["status"] == "accepted"
    assert madr.parse_record(heading)["status"] == "deprecated"


def test_nothing_is_invented_for_a_file_without_date_or_status():
    record = madr.parse_record("# Use X\n\n## Context\n\nWhy.\n", "use-x.md")

    assert (record["date"], record["status"], record["number"]) == (None, None, None)
    assert record["notes"] == []


def test_a_date_that_is_no_day_is_left_unknown_with_a_note():
    record = madr.parse_record("---\ndate: last spring\n---\n# X\n", "x.md")

    assert record["date"] is None
    assert record["notes"] == ["date 'last spring' is not a day (YYYY-MM-DD): left unknown"]


@pytest.mark.parametrize(
    ("date", "expected"),
    [("2024-02-30", None), ("02/03/2024", "2024-03-02"), ("2024/3/5", "2024-03-05")],
)
def test_dates_are_read_in_the_formats_tools_write_and_impossible_days_are_not(date, expected):
    record = madr.parse_record(f"---\ndate: {date}\n---\n# X\n", "x.md")

    assert record["date"] == expected


@pytest.mark.parametrize(
    ("name", "number", "date"),
    [
        ("0042-use-x.md", 42, None),
        ("12345-use-x.md", 12345, None),
        ("20201028-use-x.md", None, "2020-10-28"),
        ("2020-10-28-use-x.md", None, "2020-10-28"),
        ("123456-use-x.md", None, None),
        ("4-day-work-week.md", None, None),
        ("001-use-x.md", None, None),
    ],
)
def test_only_a_leading_number_of_four_or_five_digits_is_a_number(name, number, date):
    record = madr.parse_record("# Use X\n", name)

    assert (record["number"], record["date"]) == (number, date)


def test_madr3_and_madr4_front_matter_people():
    madr3 = madr.parse_record("---\nstatus: proposed\ndeciders: Carol, Dan\n---\n# X\n")
    madr4 = madr.parse_record(
        "---\nstatus: accepted\ndecision-makers: [Ann]\nconsulted: [Erin]\ninformed: Frank\n"
        "---\n# X\n"
    )

    assert madr3["decision_makers"] == ["Carol", "Dan"]
    assert (madr4["decision_makers"], madr4["consulted"], madr4["informed"]) == (
        ["Ann"], ["Erin"], ["Frank"],
    )  # fmt: skip


def test_log4brains_new_file_reads_as_the_draft_log4brains_shows_without_placeholders():
    text = """# Use PostgreSQL

- Status: [draft | proposed | rejected | accepted | deprecated | … | superseded by [xxx](yyyymmdd-xxx.md)] <!-- optional -->
- Deciders: [list everyone involved in the decision] <!-- optional -->
- Date: [YYYY-MM-DD when the decision was last updated] <!-- optional. To customize the ordering without relying on Git creation dates and filenames -->

## Considered Options

- [option 1]
- … <!-- numbers of options can vary -->
"""  # noqa: E501
    record = madr.parse_record(text, "20261202-use-postgresql.md")

    assert (record["title"], record["status"], record["number"]) == (
        "Use PostgreSQL",
        "draft",
        None,
    )
    assert record["decision_makers"] == []
    assert record["date"] == "2026-12-02"
    assert [option["title"] for option in record["considered_options"]] == ["[option 1]"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("---\nstatus: [accepted\n---\n# T\n", "front matter is not valid YAML"),
        ("---\nstatus: accepted\n# T\n", "never ends"),
        ("---\n- a\n- b\n---\n# T\n", "must be a YAML mapping"),
        ("---\na: &x [1]\nb: *x\n---\n# T\n", "uses a YAML alias"),
        ("---\na: " + "[" * 40 + "]" * 40 + "\n---\n# T\n", "nested too deeply"),
        ("---\ncrossover: 3\n---\n# T\n", "'crossover' must be a mapping"),
        ("Just notes.\n\n## Context\n\nNothing.\n", "no title"),
    ],
)
def test_files_that_are_no_record_are_refused_with_the_reason(text, message):
    with pytest.raises(madr.MadrError, match=message):
        madr.parse_record(text)


def test_numbers_out_of_range_are_ignored_with_a_note():
    record = madr.parse_record("---\ncrossover: {number: 2147483648}\n---\n# X\n", "x.md")

    assert record["number"] is None
    assert record["notes"] == ["number '2147483648' is not one from 1 to 99,999: ignored"]


@pytest.mark.parametrize("title", ["Use C#", "Write the parser in F#"])
def test_a_title_ending_in_hash_survives_export_and_import(title):
    option = {"title": title, "description": "", "arguments": []}
    record = {**FULL_RECORD, "title": title, "chosen_option": title, "considered_options": [option]}

    assert roundtrip(record, "madr4")["title"] == title


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("0001-use-x.md", True),
        ("doc/adr/0002-use-y.MD", True),
        ("index.md", False),
        ("docs/README.md", False),
        ("template.md", False),
        ("doc/adr/templates/adr-template-minimal.md", False),
        ("0003-notes.txt", False),
    ],
)
def test_is_record_filename_excludes_index_readme_template_and_non_markdown(name, expected):
    assert madr.is_record_filename(name) is expected


def test_the_evidence_kind_evaluation_of_older_exports_reads_as_assessment():
    text = """---
status: accepted
crossover:
  number: 3
  evidence:
  - {kind: evaluation, workload: support-bot, created_at: '2026-11-30T10:00:00+00:00'}
  - {kind: worksheet, workload: support-bot, version: 2}
---
# Keep prompting
"""
    evidence = madr.parse_record(text, "0003-keep-prompting.md")["evidence"]

    assert [item["kind"] for item in evidence] == ["assessment", "worksheet"]


def test_options_written_as_headings_under_considered_options_keep_their_arguments():
    text = """# 0005: Pick a cache

**Status:** ACCEPTED

---

## Considered Options

### Option 1: Redis (Chosen)

**Pros (+):**
- fast

**Cons (-):**
- another server

### Option 2: Memcached

#### Pros

- tiny

---

## Decision Outcome

**Chosen Option:** Option 1: Redis

Because it is fast.

---

## Consequences

Fine.
"""
    record = madr.parse_record(text, "0005-pick-a-cache.md")

    options = record["considered_options"]
    assert [option["title"] for option in options] == [
        "Option 1: Redis (Chosen)",
        "Option 2: Memcached",
    ]
    assert options[0]["arguments"] == [
        {"kind": "good", "text": "fast"},
        {"kind": "bad", "text": "another server"},
    ]
    assert options[1]["arguments"] == [{"kind": "good", "text": "tiny"}]
    assert record["chosen_option"] == "Option 1: Redis (Chosen)"
    assert record["status"] == "accepted"
    assert record["justification"] == "Because it is fast."
    assert record["consequences"] == "Fine."
