"""Datasets: import all-or-nothing with per-line errors (JSON, JSONL, CSV), deterministic splits,
the leakage check, API and pages."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from evaluations.dataset_files import assign_splits, parse_csv, split_counts, text_hash
from evaluations.demo import seed_dataset
from evaluations.models import Dataset, DatasetItem
from evaluations.selectors import dataset_leakage
from evaluations.services.datasets import dataset_create, dataset_items_add, dataset_split

pytestmark = pytest.mark.django_db

SCHEMA = {
    "type": "object",
    "properties": {"name": {"type": "string"}, "total": {"type": "number"}},
    "required": ["name", "total"],
}


def make(team, kind="classification", **fields):
    return dataset_create(team=team, name=fields.pop("name", "Tickets"), task_kind=kind, **fields)


def item(text, expected="billing", **fields):
    return {"input": {"ticket": text}, "expected": expected, **fields}


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "evaluations:read", "evaluations:write")


def post_items(api, dataset, body, content_type="application/json"):
    data = body if isinstance(body, str | bytes) else json.dumps(body)
    return api.post(f"/api/v1/datasets/{dataset.pk}/items", data, content_type=content_type)


# Creating --------------------------------------------------------------------------------------


def test_api_creates_a_dataset_with_a_valid_schema(api):
    body = {"name": "Invoices", "task_kind": "extraction", "output_schema": SCHEMA}
    response = api.post("/api/v1/datasets", body, format="json")
    assert response.status_code == 201
    data = response.json()
    assert data["label_field"] == "category" and data["output_schema"] == SCHEMA
    assert data["item_count"] == 0
    assert data["splits"] == {"train": 0, "validation": 0, "test": 0, "unassigned": 0}


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"name": "x", "task_kind": "summarise"}, "task_kind", "is not a valid choice"),
        ({"name": " ", "task_kind": "generation"}, "name", "may not be blank"),
        ({"name": "x", "task_kind": "extraction", "output_schema": {"type": "nope"}},
         "output_schema", "Not a valid JSON Schema"),
        ({"name": "x", "task_kind": "extraction", "output_schema": [1]},
         "output_schema", "is an object"),
        ({"name": "x", "task_kind": "extraction",
          "output_schema": {"$ref": "https://example.com/s.json"}},
         "output_schema", "Only local references"),
        ({"name": "x", "task_kind": "classification", "label_field": ""}, "label_field", ""),
    ],
)  # fmt: skip
def test_api_refuses_bad_datasets(api, body, field, message):
    response = api.post("/api/v1/datasets", body, format="json")
    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["field"] == field and message in error["message"]
    assert not Dataset.objects.exists()


def test_dataset_names_are_unique_per_team(api, team, other_team):
    make(other_team)
    body = {"name": "Tickets", "task_kind": "classification"}
    assert api.post("/api/v1/datasets", body, format="json").status_code == 201
    again = api.post("/api/v1/datasets", body, format="json")
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "name"


# Importing -------------------------------------------------------------------------------------


def test_a_json_list_is_imported(api, team):
    dataset = make(team)
    items = [item("charged twice", split="test", tags=["Edge-Case", "edge-case"]), item("hi")]
    response = post_items(api, dataset, items)
    assert response.status_code == 201 and response.json() == {"accepted": 2, "errors": []}
    first, second = DatasetItem.objects.filter(dataset=dataset).order_by("position")
    assert (first.position, first.split, first.tags) == (1, "test", ["edge-case"])
    assert (second.position, second.split, second.team_id) == (2, "", team.pk)


def test_a_jsonl_body_is_imported_after_the_existing_items(api, team):
    dataset = make(team)
    dataset_items_add(dataset=dataset, items=[item("old")])
    body = "\n".join(json.dumps(item(f"ticket {n}")) for n in range(3)) + "\n\n"
    response = post_items(api, dataset, body, "application/x-ndjson")
    assert response.status_code == 201 and response.json()["accepted"] == 3
    positions = list(dataset.items.order_by("position").values_list("position", flat=True))
    assert positions == [1, 2, 3, 4]


def test_one_bad_line_rejects_the_whole_import_with_line_and_field(api, team):
    dataset = make(team)
    lines = [
        json.dumps(item("fine")),
        json.dumps(item("bad split", split="dev")),
        "{not json",
        json.dumps({"input": {"1x": "bad name"}, "expected": "billing"}),
        json.dumps({"expected": "billing"}),
        json.dumps(item("no label", expected={"other": 1})),
        json.dumps(item("bad tag", tags=["has space"])),
        "[1, 2]",
        json.dumps({"conversation": [{"role": "robot", "content": "x"}]}),
    ]
    response = post_items(api, dataset, "\n".join(lines), "application/x-ndjson")
    assert response.status_code == 400
    body = response.json()
    assert body["accepted"] == 0 and body["detail"].startswith("Invalid input")
    found = {(e["line"], e["field"]) for e in body["errors"]}
    assert found == {
        (2, "split"),
        (3, None),
        (4, "input"),
        (5, "input"),
        (6, "expected"),
        (7, "tags.0"),
        (8, None),
        (9, "conversation.0.role"),
    }
    assert not DatasetItem.objects.exists()


def test_extraction_items_must_satisfy_the_output_schema(api, team):
    dataset = make(team, "extraction", output_schema=SCHEMA)
    good = item("Invoice ACME 12.50", expected={"name": "ACME", "total": 12.5})
    bad = item("Invoice ACME", expected={"name": "ACME"})
    response = post_items(api, dataset, [good, bad])
    assert response.status_code == 400
    assert response.json()["errors"] == [
        {
            "line": 2,
            "field": "expected",
            "message": "It does not satisfy the dataset's output schema.",
        }
    ]
    assert post_items(api, dataset, [good]).status_code == 201


def test_a_persona_item_may_be_a_conversation(api, team):
    dataset = make(team, "persona")
    conversation = [
        {"role": "user", "content": "Add a task"},
        {"role": "assistant", "content": "Done!"},
    ]
    response = post_items(api, dataset, [{"conversation": conversation, "tags": ["multi-turn"]}])
    assert response.status_code == 201
    assert DatasetItem.objects.get().conversation == conversation


@pytest.mark.parametrize(
    ("body", "content_type", "status", "message"),
    [
        (b"\xff\xfe not utf-8", "application/json", 400, "not UTF-8"),
        ("{}", "application/json", 400, "Send a JSON list"),
        ("[", "application/json", 400, "not valid JSON"),
        ("a,b", "text/csv", 415, "application/json"),
    ],
)
def test_bodies_that_cannot_be_read_are_clear_errors(
    api, team, body, content_type, status, message
):
    response = post_items(api, make(team), body, content_type)
    assert response.status_code == status
    assert message in response.json()["errors"][0]["message"]


def test_an_empty_import_stores_nothing_and_says_so(api, team):
    dataset = make(team)
    for body, content_type in (("[]", "application/json"), ("\n", "application/x-ndjson")):
        response = post_items(api, dataset, body, content_type)
        assert response.status_code == 201 and response.json() == {"accepted": 0, "errors": []}
    assert not dataset.items.exists()


def test_too_many_items_are_refused(api, team, monkeypatch):
    monkeypatch.setattr("evaluations.api.datasets.MAX_ITEMS_PER_IMPORT", 3)
    response = post_items(api, make(team), [item(str(n)) for n in range(4)])
    assert (
        response.status_code == 400 and "At most 3 items" in response.json()["errors"][0]["message"]
    )


def test_csv_columns_become_variables_and_item_fields():
    text = (
        "ticket,input.customer,expected,split,tags\n"
        '"charged twice, again",Ann,billing,train,"edge-case; vip"\n'
        "\n"
        '"a ticket over\ntwo lines",Bob,,,\n'
        "short row,Cy\n"
    )
    records = parse_csv(text)
    assert [r.line for r in records] == [2, 4, 6]
    assert records[0].data == {
        "input": {"ticket": "charged twice, again", "customer": "Ann"},
        "expected": "billing",
        "split": "train",
        "tags": ["edge-case", "vip"],
    }
    assert records[1].data == {"input": {"ticket": "a ticket over\ntwo lines", "customer": "Bob"},
                               "tags": []}  # fmt: skip
    assert records[2].error == "Expected 5 cells, found 2."


def test_csv_header_problems_are_reported_on_line_1():
    assert parse_csv("expected,split\nx,train\n")[0].error.startswith("Name at least one input")
    assert "named twice" in parse_csv("a,input.a\n1,2\n")[0].error
    assert parse_csv("") == []


def test_csv_expected_is_read_as_json_for_extraction():
    records = parse_csv('text,expected\nx,"{""name"": ""A""}"\ny,{broken\n', json_expected=True)
    assert records[0].data["expected"] == {"name": "A"}
    assert records[1].error == "expected: not valid JSON."


# Splits ----------------------------------------------------------------------------------------

RATIOS = {"train": Decimal("0.8"), "validation": Decimal("0.1"), "test": Decimal("0.1")}


def test_split_counts_use_largest_remainders():
    assert split_counts(10, RATIOS) == {"train": 8, "validation": 1, "test": 1}
    # 5.6, 0.7, 0.7 → floors 5, 0, 0; the two largest remainders (0.7, 0.7) get the 2 left over
    assert split_counts(7, RATIOS) == {"train": 5, "validation": 1, "test": 1}
    third = Decimal(1) / 3
    assert split_counts(2, {"train": third, "validation": third, "test": third}) == {
        "train": 1, "validation": 1, "test": 0,
    }  # fmt: skip


def test_assign_splits_is_deterministic_exact_and_order_free():
    keys = [f"k{n}" for n in range(100)]
    splits = assign_splits(keys, RATIOS, seed=5)
    assert splits == assign_splits(keys, RATIOS, seed=5)
    assert {s: splits.count(s) for s in set(splits)} == {"train": 80, "validation": 10, "test": 10}
    reordered = dict(
        zip(reversed(keys), assign_splits(list(reversed(keys)), RATIOS, 5), strict=True)
    )
    assert reordered == dict(zip(keys, splits, strict=True))
    assert splits != assign_splits(keys, RATIOS, seed=6)


def test_assign_splits_keeps_duplicate_groups_together():
    keys = [f"k{n % 30}" for n in range(90)]  # 30 groups of 3
    splits = assign_splits(keys, RATIOS, seed=1)
    for key in set(keys):
        assert len({s for k, s in zip(keys, splits, strict=True) if k == key}) == 1


def test_splitting_the_dataset_through_the_api(api, team):
    dataset = make(team)
    dataset_items_add(dataset=dataset, items=[item(f"ticket number {n}") for n in range(20)])
    body = {"train": 0.5, "validation": 0.25, "test": 0.25, "seed": 3}
    response = api.post(f"/api/v1/datasets/{dataset.pk}/split", body, format="json")
    assert response.status_code == 200
    assert response.json()["splits"] == {"train": 10, "validation": 5, "test": 5, "unassigned": 0}
    first = dict(dataset.items.values_list("position", "split"))
    api.post(f"/api/v1/datasets/{dataset.pk}/split", body, format="json")
    assert dict(dataset.items.values_list("position", "split")) == first
    bad = api.post(f"/api/v1/datasets/{dataset.pk}/split", {**body, "test": 0.3}, format="json")
    assert bad.status_code == 400 and "add up to 1" in bad.json()["errors"][0]["message"]


# Leakage ---------------------------------------------------------------------------------------


def test_normalised_text_ignores_case_punctuation_spacing_and_variable_names():
    assert text_hash({"ticket": "I was charged TWICE!!"}, None) == text_hash(
        {"text": "  i was charged, twice "}, None
    )
    assert text_hash({"ticket": "charged twice"}, None) != text_hash(
        {"ticket": "charged once"}, None
    )


def test_leakage_finds_exact_and_normalised_duplicates_across_splits(team):
    dataset = make(team)
    dataset_items_add(
        dataset=dataset,
        items=[
            item("I was charged twice", split="train"),
            item("I was charged twice", split="test"),  # exact
            item("Where is my invoice?", split="train"),
            item("where is my INVOICE", split="validation"),  # normalised
            item("App is down", split="test"),
            item("App is down", split="test"),  # same split: not leakage
            item("App is down"),  # unassigned: not in a split
        ],
    )
    report = dataset_leakage(dataset)
    assert (report.groups, report.exact_groups, report.items) == (2, 1, 4)
    assert report.pairs == {"train/test": 1, "train/validation": 1}
    kinds = {g.kind: ([i.position for i in g.items], g.splits) for g in report.examples}
    assert kinds == {"exact": ([1, 2], ["train", "test"]),
                     "normalised": ([3, 4], ["train", "validation"])}  # fmt: skip


def test_splitting_removes_leakage(team):
    dataset = make(team)
    items = [item("same", split="train"), item("same", split="test")]
    dataset_items_add(dataset=dataset, items=[*items, *[item(f"other {n}") for n in range(8)]])
    assert not dataset_leakage(dataset).clean
    dataset_split(dataset=dataset, ratios=RATIOS, seed=0)
    assert dataset_leakage(dataset).clean


def test_the_api_detail_shows_counts_tags_and_leakage(api, team):
    dataset = make(team)
    dataset_items_add(dataset=dataset, items=[item("dup", split="train", tags=["edge-case"]),
                                              item("DUP.", split="test")])  # fmt: skip
    data = api.get(f"/api/v1/datasets/{dataset.pk}").json()
    assert data["tags"] == {"edge-case": 1}
    assert data["leakage"]["clean"] is False and data["leakage"]["pairs"] == {"train/test": 1}
    assert data["leakage"]["examples"][0]["kind"] == "normalised"


# Reading ---------------------------------------------------------------------------------------


def test_items_are_filtered_by_split_and_tag(api, team):
    dataset = make(team)
    dataset_items_add(dataset=dataset, items=[item("a", split="test", tags=["edge-case"]),
                                              item("b", split="test", tags=["edge"]),
                                              item("c", tags=["edge-case"])])  # fmt: skip
    url = f"/api/v1/datasets/{dataset.pk}/items"
    tagged = api.get(url, {"tag": "edge-case"}).json()["results"]
    assert [i["input"]["ticket"] for i in tagged] == ["a", "c"]
    assert [
        i["input"]["ticket"] for i in api.get(url, {"split": "unassigned"}).json()["results"]
    ] == ["c"]
    assert api.get(url, {"split": "dev"}).status_code == 400


def test_dataset_list_api_and_page_have_constant_queries(api, admin_client, team,
                                                         django_assert_num_queries):  # fmt: skip
    for n in range(3):
        dataset = make(team, name=f"D{n}")
        dataset_items_add(dataset=dataset, items=[item("x", split="train"), item("y")])
    with django_assert_num_queries(4):  # token, its last use, count, page
        data = api.get("/api/v1/datasets").json()
    assert data["count"] == 3 and data["results"][0]["splits"]["train"] == 1
    url = reverse("evaluations:dataset_list", args=[team.slug])
    admin_client.get(url)
    with django_assert_num_queries(5):
        assert b"D2" in admin_client.get(url).content


def test_detail_page_shows_leakage_and_filters_items(admin_client, team, django_assert_num_queries):
    dataset = make(team)
    dataset_items_add(dataset=dataset, items=[item("dup", split="train"), item("dup", split="test"),
                                              *[item(f"n{n}", split="test", tags=["edge-case"])
                                                for n in range(60)]])  # fmt: skip
    url = reverse("evaluations:dataset_detail", args=[team.slug, dataset.pk])
    admin_client.get(url)
    with django_assert_num_queries(11):
        html = admin_client.get(url).content.decode()
    assert "Leakage:" in html and "train/test: 1" in html and "page 1 of 2" in html
    partial = admin_client.get(url, {"tag": "edge-case"}, HTTP_HX_REQUEST="true",
                               HTTP_HX_TARGET="dataset-items").content.decode()  # fmt: skip
    assert partial.strip().startswith('<div id="dataset-items"') and "60 items" in partial


# Pages -----------------------------------------------------------------------------------------


def test_page_creates_a_dataset_and_shows_schema_errors(admin_client, team):
    url = reverse("evaluations:dataset_create", args=[team.slug])
    body = {"name": "Inv", "task_kind": "extraction", "label_field": "category",
            "output_schema": '{"type": "nope"}', "description": ""}  # fmt: skip
    response = admin_client.post(url, body)
    assert response.status_code == 200 and "Not a valid JSON Schema" in response.content.decode()
    response = admin_client.post(url, {**body, "output_schema": "{broken"})
    assert "Not valid JSON" in response.content.decode()
    response = admin_client.post(url, {**body, "output_schema": json.dumps(SCHEMA)})
    assert response.status_code == 302
    assert Dataset.objects.get(name="Inv").output_schema == SCHEMA


def test_page_import_of_a_csv_file(admin_client, team):
    dataset = make(team)
    url = reverse("evaluations:dataset_import", args=[team.slug, dataset.pk])
    upload = SimpleUploadedFile("tickets.csv", b"ticket,expected,split\nhello,question,train\n")
    response = admin_client.post(url, {"file": upload, "text": "", "format": "auto"})
    assert response.status_code == 302
    assert DatasetItem.objects.get().input == {"ticket": "hello"}


def test_page_import_lists_every_error_and_stores_nothing(admin_client, team):
    dataset = make(team)
    url = reverse("evaluations:dataset_import", args=[team.slug, dataset.pk])
    text = json.dumps(item("ok")) + "\n" + json.dumps(item("bad", split="dev"))
    response = admin_client.post(url, {"text": text, "format": "auto"})
    html = response.content.decode()
    assert response.status_code == 200 and "Nothing was imported: 1 problem" in html
    assert "<code>split</code>" in html and not DatasetItem.objects.exists()
    response = admin_client.post(url, {"text": "", "format": "auto"})
    assert "Upload a file or paste items." in response.content.decode()


def test_page_split_form(admin_client, team):
    dataset = make(team)
    dataset_items_add(dataset=dataset, items=[item(f"t{n}") for n in range(10)])
    url = reverse("evaluations:dataset_split", args=[team.slug, dataset.pk])
    shares = {"train": "70", "validation": "20", "test": "10", "seed": "1"}
    response = admin_client.post(url, shares, follow=True)
    assert "7 train, 2 validation, 1 test" in response.content.decode()
    response = admin_client.post(url, {**shares, "test": "20"}, follow=True)
    assert "Not split: train + validation + test must add up to 1." in response.content.decode()


def test_demo_dataset_has_splits_edge_cases_and_no_leakage(team, user):
    dataset = seed_dataset(team, user)
    assert dataset.items.count() == 110
    assert dataset.items.filter(tag_text__contains=",adversarial,").count() == 4
    assert not dataset.items.filter(split="").exists()
    assert dataset_leakage(dataset).clean
    assert seed_dataset(team, user) == dataset  # idempotent


def test_null_messages_and_options_requests_are_answered_not_crashed(api, team):
    dataset = make(team, "persona")
    response = post_items(api, dataset, [{"conversation": [None, None]}])
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "conversation.0"
    for url in (f"/api/v1/datasets/{dataset.pk}/split", f"/api/v1/datasets/{dataset.pk}/items",
                "/api/v1/datasets", "/api/v1/providers"):  # fmt: skip
        assert api.options(url).status_code == 200, url
