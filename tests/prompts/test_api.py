"""/api/v1/prompts…: templates, versions, resolve with ETags, render, labels with history."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from prompts.models import PromptLabelMove, PromptVersion
from prompts.signals import prompt_label_moved
from teams.models import Role, WebhookDelivery
from teams.services import webhook_create
from tests.prompts.helpers import MODEL, chat_content, text_content
from tests.schema_check import PublishedSchema

pytestmark = pytest.mark.django_db

VERSION = {
    "kind": "chat",
    "messages": [
        {"role": "system", "content": "Classify the ticket. Answer JSON."},
        {"type": "placeholder", "name": "history"},
        {"role": "user", "content": "Ticket: {{ ticket }}"},
    ],
    "model": MODEL,
    "config": {"temperature": 0.1, "response_format": {"type": "json_object"}, "seed": 7},
    "few_shot": [{"input": "Server down", "output": '{"category": "incident"}'}],
    "commit_message": "first",
}


def errors_of(response) -> dict[str, str]:
    body = response.json()
    assert set(body) == {"detail", "errors"}, body
    return {e["field"]: e["message"] for e in body["errors"]}


@pytest.fixture
def classifier(api):
    assert (
        api.post(
            "/api/v1/prompts", {"slug": "cls", "name": "Classifier"}, format="json"
        ).status_code
        == 201
    )
    return "cls"


def session_client(team, member_factory, role) -> APIClient:
    client = APIClient()
    client.force_login(member_factory(team, role))
    return client


# Templates --------------------------------------------------------------------------------------


def test_create_then_list_templates_with_their_labels(api):
    response = api.post(
        "/api/v1/prompts",
        {
            "slug": "cls",
            "name": "Classifier",
            "description": "Routes tickets",
            "tags": ["support", "json", "support"],
            "protected_labels": ["production"],
        },
        format="json",
    )
    assert response.status_code == 201
    body = response.json()
    assert body["tags"] == ["support", "json"] and body["latest_version"] is None
    assert body["gate"]["enforced"] is False
    api.post("/api/v1/prompts/cls/versions", VERSION, format="json")
    api.put("/api/v1/prompts/cls/labels/staging", {"version": 1}, format="json")
    listed = api.get("/api/v1/prompts").json()
    assert listed["count"] == 1
    assert listed["results"][0]["labels"] == {"staging": 1}
    assert listed["results"][0]["latest_version"] == 1


def test_search_and_tag_filter_the_list(api, make_prompt, team):
    make_prompt(team, "persona", name="TaskMaster persona", tags=["persona"])
    make_prompt(team, "cls", name="Ticket classifier", tags=["support", "json"])
    slugs = lambda url: [r["slug"] for r in api.get(url).json()["results"]]  # noqa: E731
    assert slugs("/api/v1/prompts?q=ticket") == ["cls"]
    assert slugs("/api/v1/prompts?tag=json") == ["cls"]
    assert slugs("/api/v1/prompts?tag=jso") == []
    assert api.get("/api/v1/prompts?tag=%00").status_code == 400
    assert api.get("/api/v1/prompts?q=%00persona").status_code == 400


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "Bad Slug", "name": "x"}, "slug"),
        ({"slug": "new", "name": "x"}, "slug"),
        ({"slug": "ok"}, "name"),
        ({"slug": "ok", "name": "x", "tags": ["Not A Tag"]}, "tags.0"),
        ({"slug": "ok", "name": "x", "tags": "support"}, "tags"),
        ({"slug": "ok", "name": "x", "protected_labels": ["latest"]}, "protected_labels"),
        ({"slug": "ok", "name": "x", "gate": {"enabled": True, "margin": -1}}, "gate.margin"),
        ({"slug": "ok", "name": "x\x00"}, "name"),
        ({"slug": "x" * 101, "name": "x"}, "slug"),
        ({"slug": 0, "name": "x"}, "slug"),
        ({"slug": "ok", "name": 12}, "name"),
    ],
)
def test_invalid_templates_are_400_with_the_field(api, body, field):
    response = api.post("/api/v1/prompts", body, format="json")
    assert response.status_code == 400
    assert field in errors_of(response)


def test_a_duplicate_slug_is_refused(api, classifier):
    response = api.post("/api/v1/prompts", {"slug": "cls", "name": "Again"}, format="json")
    assert response.status_code == 400 and "already exists" in errors_of(response)["slug"]


def test_only_admins_change_protected_labels(api, classifier, team, member_factory):
    assert (
        api.patch("/api/v1/prompts/cls", {"name": "Renamed"}, format="json").json()["name"]
        == "Renamed"
    )
    denied = api.patch("/api/v1/prompts/cls", {"protected_labels": []}, format="json")
    assert denied.status_code == 403
    admin = session_client(team, member_factory, Role.ADMIN)
    changed = admin.patch(
        "/api/v1/prompts/cls", {"protected_labels": ["production"]}, format="json"
    )
    assert changed.json()["protected_labels"] == ["production"]


# Versions ---------------------------------------------------------------------------------------


def test_saving_a_version_reports_its_figures(api, classifier):
    response = api.post("/api/v1/prompts/cls/versions", VERSION, format="json")
    assert response.status_code == 201
    body = response.json()
    assert body["version"] == 1 and body["created"] is True and len(body["hash"]) == 64
    assert body["variables"] == ["ticket"] and body["static_tokens"] > 10
    assert body["warnings"] == [] and body["labels"] == ["latest"]
    assert body["config"]["seed"] == 7  # keys beyond the known ones are kept
    assert body["author"] == "token test token"


def test_identical_content_creates_no_version_and_says_so(api, classifier):
    first = api.post("/api/v1/prompts/cls/versions", VERSION, format="json").json()
    again = api.post(
        "/api/v1/prompts/cls/versions", {**VERSION, "commit_message": "again"}, format="json"
    )
    assert again.status_code == 200
    assert again.json()["created"] is False and again.json()["version"] == 1
    assert again.json()["hash"] == first["hash"]
    assert "no new version" in again.json()["detail"]
    assert PromptVersion.objects.count() == 1


def test_going_back_to_older_content_is_a_new_version(api, classifier):
    api.post("/api/v1/prompts/cls/versions", VERSION, format="json")
    changed = {**VERSION, "config": {"temperature": 0.3}}
    assert api.post("/api/v1/prompts/cls/versions", changed, format="json").json()["version"] == 2
    back = api.post("/api/v1/prompts/cls/versions", VERSION, format="json").json()
    assert back["version"] == 3 and back["created"] is True


def test_bloat_is_warned_from_the_seeds_thresholds(api, classifier):
    examples = [{"input": f"ticket {i}", "output": "{}"} for i in range(6)]
    body = api.post(
        "/api/v1/prompts/cls/versions", {**VERSION, "few_shot": examples}, format="json"
    ).json()
    assert body["warnings"] == [
        "prompt bloat: evaluate fine-tuning — 6 few-shot examples (more than 5)"
    ]
    long = {**VERSION, "messages": [{"role": "system", "content": "word " * 2_100}]}
    body = api.post("/api/v1/prompts/cls/versions", long, format="json").json()
    assert body["static_tokens"] > 2_000 and "static part is" in body["warnings"][0]


BAD_VERSIONS = [
    ({"kind": "chat", "model": MODEL}, "messages"),
    ({"kind": "chat", "model": MODEL, "messages": []}, "messages"),
    ({**VERSION, "text": "x"}, "text"),
    ({"kind": "text", "model": MODEL, "text": "  "}, "text"),
    ({"kind": "text", "model": MODEL, "text": "x", "messages": VERSION["messages"]}, "messages"),
    ({**VERSION, "kind": "image"}, "kind"),
    ({**VERSION, "model": "gpt 4"}, "model"),
    ({**VERSION, "model": ""}, "model"),
    ({**VERSION, "messages": "system: hi"}, "messages"),
    ({**VERSION, "messages": [{"role": "system", "content": ["a"]}]}, "messages.0.content"),
    ({**VERSION, "messages": [{"role": "root", "content": "x"}]}, "messages.0.role"),
    ({**VERSION, "messages": [{"role": "user"}]}, "messages.0.content"),
    # NUL is refused by the API's JSON parser, which names the path its own way.
    ({**VERSION, "messages": [{"role": "user", "content": "a\x00b"}]}, "messages[0].content"),
    ({**VERSION, "messages": [{"type": "placeholder"}]}, "messages.0.name"),
    ({**VERSION, "messages": [{"type": "placeholder", "name": "h", "content": "x"}]}, "messages.0"),
    ({**VERSION, "messages": [{"type": "placeholder", "name": "h"}] * 2}, "messages"),
    ({**VERSION, "messages": [{"type": "placeholder", "name": "not valid"}]}, "messages.0.name"),
    ({**VERSION, "messages": [{"role": "user", "content": "x" * 100_001}]}, "messages.0.content"),
    ({**VERSION, "messages": [{"role": "user", "content": "x"}] * 201}, "messages"),
    (
        {**VERSION, "messages": [{"role": "user", "content": "{{ x.__class__ }}"}]},
        "messages.0.content",
    ),
    ({**VERSION, "messages": [{"role": "user", "content": "{% for %}"}]}, "messages.0.content"),
    ({**VERSION, "config": []}, "config"),
    ({**VERSION, "config": {"temperature": "hot"}}, "config.temperature"),
    ({**VERSION, "config": {"temperature": 3}}, "config.temperature"),
    ({**VERSION, "config": {"max_tokens": 0}}, "config.max_tokens"),
    ({**VERSION, "config": {"max_tokens": 10**30}}, "config.max_tokens"),
    ({**VERSION, "config": {"response_format": {"type": "xml"}}}, "config.response_format.type"),
    (
        {**VERSION, "config": {"response_format": {"type": "json_schema"}}},
        "config.response_format.json_schema",
    ),
    (
        {
            **VERSION,
            "config": {
                "response_format": {
                    "type": "json_schema",
                    "json_schema": {"name": "out", "schema": {"type": "no-such-type"}},
                }
            },
        },
        "config.response_format.json_schema.schema",
    ),
    ({**VERSION, "config": {"extra": "a\x00"}}, "config.extra"),
    ({**VERSION, "config": {"deep": json.loads("[" * 40 + "]" * 40)}}, "config"),
    ({**VERSION, "config": {"big": "x" * 70_000}}, "config"),
    ({**VERSION, "few_shot": [{"input": "a"}]}, "few_shot.0.output"),
    ({**VERSION, "few_shot": {"input": "a", "output": "b"}}, "few_shot"),
    ({**VERSION, "commit_message": 5 * "x" * 101}, "commit_message"),
    ({"kind": "text", "model": MODEL, "text": "x", "few_shot": VERSION["few_shot"]}, "few_shot"),
]


@pytest.mark.parametrize(("body", "field"), BAD_VERSIONS)
def test_invalid_versions_are_400_naming_the_field_and_store_nothing(api, classifier, body, field):
    response = api.post("/api/v1/prompts/cls/versions", body, format="json")
    assert response.status_code == 400, response.content
    assert field in errors_of(response), errors_of(response)
    assert not PromptVersion.objects.exists()


def test_a_sandbox_escape_is_refused_with_a_clear_reason(api, classifier):
    body = {
        **VERSION,
        "messages": [{"role": "user", "content": "{{ ticket.__init__.__globals__ }}"}],
    }
    message = errors_of(api.post("/api/v1/prompts/cls/versions", body, format="json"))
    assert "reach Python internals and are refused (sandbox)" in message["messages.0.content"]


def test_bodies_that_are_not_small_json_objects_are_refused(api, classifier):
    url = "/api/v1/prompts/cls/versions"
    deep = "[" * 100_000 + "]" * 100_000
    assert api.post(url, deep, content_type="application/json").status_code == 400
    assert api.post(url, "{", content_type="application/json").status_code == 400
    assert api.post(url, '{"temperature": NaN}', content_type="application/json").status_code == 400
    assert api.post(url, b"\xff\xfe", content_type="application/json").status_code == 400
    assert (
        api.post(url, "kind=chat", content_type="application/x-www-form-urlencoded").status_code
        == 415
    )
    huge = json.dumps({**VERSION, "pad": "x" * (3 * 1024 * 1024)})
    assert api.post(url, huge, content_type="application/json").status_code == 413
    assert api.post(url, "[1, 2]", content_type="application/json").status_code == 400


def test_references_must_resolve_when_saved(api, classifier, make_prompt, team):
    make_prompt(team, "persona", chat_content("a chat prompt"), labels={"production": 1})
    cases = {
        '{% include_prompt "nowhere" %}': "no prompt 'nowhere'",
        '{% include_prompt "persona" %}': "a chat prompt",
        '{% include_prompt "persona" label="staging" %}': "'staging' label",
    }
    for template, message in cases.items():
        body = {**VERSION, "messages": [{"role": "system", "content": template}]}
        response = api.post("/api/v1/prompts/cls/versions", body, format="json")
        assert response.status_code == 400
        assert message in errors_of(response)["messages.0.content"]


def test_a_reference_is_resolved_recorded_and_counted(api, classifier, make_prompt, team):
    make_prompt(team, "tone", text_content("Be kind to {{ customer }}."), labels={"production": 1})
    body = {
        **VERSION,
        "messages": [
            {"role": "system", "content": 'Rules. {% include_prompt "tone" %}'},
            {"role": "user", "content": "{{ ticket }}"},
        ],
    }
    saved = api.post("/api/v1/prompts/cls/versions", body, format="json").json()
    assert saved["references"] == [
        {
            "reference": "tone@production",
            "slug": "tone",
            "version": 1,
            "hash": PromptVersion.objects.get(template__slug="tone").content_hash,
        }
    ]
    assert saved["variables"] == ["customer", "ticket"]


def test_versions_are_listed_newest_first_and_fetched_one_by_one(api, classifier):
    for temperature in (0.1, 0.2, 0.3):
        api.post(
            "/api/v1/prompts/cls/versions",
            {**VERSION, "config": {"temperature": temperature}},
            format="json",
        )
    listed = api.get("/api/v1/prompts/cls/versions").json()
    assert [v["version"] for v in listed["results"]] == [3, 2, 1]
    assert api.get("/api/v1/prompts/cls/versions/2").json()["config"] == {"temperature": 0.2}
    assert api.get("/api/v1/prompts/cls/versions/9").status_code == 404
    assert api.get("/api/v1/prompts/cls/versions/99999999999999999999").status_code == 404


def test_list_endpoints_cost_a_constant_number_of_queries(
    api, make_prompt, team, django_assert_num_queries
):
    def counted(url: str) -> int:
        api.get(url)  # the token's last_used_at is written on a first request
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as queries:
            assert api.get(url).status_code == 200
        return len(queries)

    make_prompt(team, "p0", chat_content("a"), labels={"production": 1})
    one_template, one_version = counted("/api/v1/prompts"), counted("/api/v1/prompts/p0/versions")
    for i in range(1, 6):
        make_prompt(
            team,
            f"p{i}",
            chat_content("a"),
            chat_content("b"),
            labels={"production": 2, "staging": 1},
        )
    assert counted("/api/v1/prompts") == one_template
    assert counted("/api/v1/prompts/p5/versions") == one_version
    assert counted("/api/v1/prompts/p5/labels") == counted("/api/v1/prompts/p0/labels")


# Resolve ----------------------------------------------------------------------------------------


@pytest.fixture
def released(api, classifier):
    api.post("/api/v1/prompts/cls/versions", VERSION, format="json")
    api.post(
        "/api/v1/prompts/cls/versions", {**VERSION, "config": {"temperature": 0.5}}, format="json"
    )
    api.put("/api/v1/prompts/cls/labels/production", {"version": 1}, format="json")
    return "cls"


def test_resolve_answers_production_with_a_strong_etag_and_private_caching(reader, released):
    response = reader.get("/api/v1/prompts/cls/resolve")
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1 and body["labels"] == ["production"]
    assert body["messages"] == VERSION["messages"] and body["variables"] == ["ticket"]
    assert set(body) == {
        "slug",
        "version",
        "hash",
        "kind",
        "messages",
        "model",
        "config",
        "few_shot",
        "variables",
        "labels",
        "resolved",
    }
    etag = response["ETag"]
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert response["Cache-Control"] == "private, max-age=60"
    assert "Authorization" in response["Vary"]


def test_if_none_match_gets_304_until_the_label_moves(reader, api, released):
    etag = reader.get("/api/v1/prompts/cls/resolve")["ETag"]
    for header in (etag, f"W/{etag}", f'"other", {etag}', "*"):
        cached = reader.get("/api/v1/prompts/cls/resolve", HTTP_IF_NONE_MATCH=header)
        assert cached.status_code == 304 and cached.content == b""
        assert cached["ETag"] == etag and cached["Cache-Control"] == "private, max-age=60"
    api.put(
        "/api/v1/prompts/cls/labels/production", {"version": 2, "note": "promote"}, format="json"
    )
    moved = reader.get("/api/v1/prompts/cls/resolve", HTTP_IF_NONE_MATCH=etag)
    assert moved.status_code == 200 and moved.json()["version"] == 2
    assert moved["ETag"] != etag
    history = api.get("/api/v1/prompts/cls/labels/production").json()["history"]
    assert [(h["from_version"], h["to_version"], h["note"]) for h in history] == [
        (1, 2, "promote"),
        (None, 1, ""),
    ]


def test_the_etag_changes_with_the_labels_on_the_version(reader, api, released):
    etag = reader.get("/api/v1/prompts/cls/resolve")["ETag"]
    api.put("/api/v1/prompts/cls/labels/staging", {"version": 1}, format="json")
    response = reader.get("/api/v1/prompts/cls/resolve", HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 200 and response.json()["labels"] == ["production", "staging"]


def test_resolve_by_label_latest_or_version(reader, released):
    assert reader.get("/api/v1/prompts/cls/resolve?label=latest").json()["version"] == 2
    assert reader.get("/api/v1/prompts/cls/resolve?version=2").json()["labels"] == ["latest"]
    assert reader.get("/api/v1/prompts/cls/resolve?label=production&version=1").status_code == 400
    assert reader.get("/api/v1/prompts/cls/resolve?label=Bad%00").status_code == 400
    assert reader.get("/api/v1/prompts/cls/resolve?version=x").status_code == 400


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("/api/v1/prompts/nope/resolve", "No prompt with this slug"),
        ("/api/v1/prompts/cls/resolve?label=staging", "no 'staging' label"),
        ("/api/v1/prompts/cls/resolve?version=7", "no version 7"),
    ],
)
def test_resolve_says_what_is_missing(reader, released, url, message):
    response = reader.get(url)
    assert response.status_code == 404 and message in response.json()["detail"]


def test_resolve_costs_a_constant_number_of_queries(
    reader, api, released, make_prompt, team, django_assert_num_queries
):
    reader.get("/api/v1/prompts/cls/resolve")
    # The token, then the version with its labels and the newest number in one query.
    with django_assert_num_queries(2):
        etag = reader.get("/api/v1/prompts/cls/resolve")["ETag"]
    with django_assert_num_queries(2):
        assert reader.get("/api/v1/prompts/cls/resolve", HTTP_IF_NONE_MATCH=etag).status_code == 304
    make_prompt(team, "tone", text_content("Be kind."), labels={"production": 1})
    make_prompt(
        team,
        "rules",
        text_content('{% include_prompt "tone" %} Be brief.'),
        labels={"production": 1},
    )
    body = {**VERSION, "messages": [{"role": "system", "content": '{% include_prompt "rules" %}'}]}
    api.post("/api/v1/prompts/cls/versions", body, format="json")
    # One more query per level of references.
    with django_assert_num_queries(4):
        response = reader.get("/api/v1/prompts/cls/resolve?label=latest")
    assert response.json()["messages"][0]["content"] == "Be kind. Be brief."


def test_resolve_follows_references_as_their_labels_move(
    reader, api, classifier, make_prompt, team
):
    tone = make_prompt(
        team, "tone", text_content("Be kind."), text_content("Be blunt."), labels={"production": 1}
    )
    body = {
        **VERSION,
        "messages": [{"role": "system", "content": 'Rules. {% include_prompt "tone" %}'}],
    }
    api.post("/api/v1/prompts/cls/versions", body, format="json")
    api.put("/api/v1/prompts/cls/labels/production", {"version": 1}, format="json")
    first = reader.get("/api/v1/prompts/cls/resolve")
    assert first.json()["messages"][0]["content"] == "Rules. Be kind."
    assert first.json()["resolved"][0]["version"] == 1
    api.put(f"/api/v1/prompts/{tone.slug}/labels/production", {"version": 2}, format="json")
    second = reader.get("/api/v1/prompts/cls/resolve", HTTP_IF_NONE_MATCH=first["ETag"])
    assert second.status_code == 200
    assert second.json()["messages"][0]["content"] == "Rules. Be blunt."


def test_a_cycle_made_by_a_later_label_move_is_a_409_naming_it(reader, api, make_prompt, team):
    # a v2 includes b, b v2 includes a: each was fine when saved, while the other's
    # production still pointed at a version that included nothing …
    make_prompt(team, "b", text_content("plain b"), labels={"production": 1})
    make_prompt(
        team,
        "a",
        text_content("plain a"),
        text_content('A {% include_prompt "b" %}'),
        labels={"production": 1},
    )
    body = {"kind": "text", "model": MODEL, "text": 'B {% include_prompt "a" %}'}
    assert api.post("/api/v1/prompts/b/versions", body, format="json").status_code == 201
    api.put("/api/v1/prompts/a/labels/production", {"version": 2}, format="json")
    assert reader.get("/api/v1/prompts/a/resolve").json()["text"] == "A plain b"
    # … until both productions point at them.
    api.put("/api/v1/prompts/b/labels/production", {"version": 2}, format="json")
    for response in (
        reader.get("/api/v1/prompts/a/resolve"),
        reader.post("/api/v1/prompts/a/render", {}, format="json"),
    ):
        assert response.status_code == 409
        assert "cycle: a → b → a" in response.json()["detail"]
        assert response.json()["errors"][0]["field"] == "references"


def test_a_stored_template_the_checks_refuse_is_not_rendered(reader, api, released):
    # A row written around the service (an old version, a restored backup) is checked again.
    PromptVersion.objects.filter(number=1).update(
        messages=[{"role": "user", "content": "{{ ''.__class__.__mro__ }}"}]
    )
    response = reader.post("/api/v1/prompts/cls/render", {}, format="json")
    assert response.status_code == 409
    assert "sandbox" in response.json()["detail"]


# Render -----------------------------------------------------------------------------------------


def test_render_fills_variables_and_placeholders_and_reports_unused_ones(reader, released):
    response = reader.post(
        "/api/v1/prompts/cls/render",
        {
            "variables": {"ticket": "The invoice is wrong", "unused": 1},
            "placeholders": {"history": [{"role": "user", "content": "hi"}]},
        },
        format="json",
    )
    assert response.status_code == 200
    body = response.json()
    assert body["version"] == 1
    assert body["messages"] == [
        {"role": "system", "content": "Classify the ticket. Answer JSON."},
        {"role": "user", "content": "Server down"},
        {"role": "assistant", "content": '{"category": "incident"}'},
        {"role": "user", "content": "hi"},
        {"role": "user", "content": "Ticket: The invoice is wrong"},
    ]
    assert body["unused_variables"] == ["unused"] and body["config"]["temperature"] == 0.1


def test_render_errors_name_the_variable_and_the_placeholder(reader, released):
    response = reader.post("/api/v1/prompts/cls/render", {"version": 2}, format="json")
    assert response.status_code == 400
    assert set(errors_of(response)) == {"variables.ticket", "placeholders.history"}


def test_render_of_a_text_prompt(reader, make_prompt, team):
    make_prompt(team, "note", text_content("Dear {{ who.name }},"), labels={"production": 1})
    ok = reader.post(
        "/api/v1/prompts/note/render", {"variables": {"who": {"name": "Ann"}}}, format="json"
    )
    assert ok.json()["text"] == "Dear Ann,"
    missing = reader.post("/api/v1/prompts/note/render", {"variables": {"who": {}}}, format="json")
    assert "variables.who.name" in errors_of(missing)


@pytest.mark.parametrize(
    "variables",
    [
        {"ticket": "\x00" * 10},
        {"ticket": "x" * 400_000},
        {"ticket": {"a": [None, True, 1.5]}},
        {"ticket": json.loads("[" * 30 + "]" * 30)},
        {"ticket": ""},
    ],
)
def test_any_variable_value_renders_or_fails_cleanly(reader, released, variables):
    response = reader.post(
        "/api/v1/prompts/cls/render",
        {"variables": variables, "placeholders": {"history": []}},
        format="json",
    )
    assert response.status_code in (200, 400)


def test_reading_tokens_render_but_do_not_write(reader, released):
    assert (
        reader.post(
            "/api/v1/prompts/cls/render",
            {"version": 1, "variables": {"ticket": "x"}, "placeholders": {"history": []}},
            format="json",
        ).status_code
        == 200
    )
    assert reader.post("/api/v1/prompts/cls/versions", VERSION, format="json").status_code == 403
    assert (
        reader.put(
            "/api/v1/prompts/cls/labels/production", {"version": 2}, format="json"
        ).status_code
        == 403
    )


# Labels -----------------------------------------------------------------------------------------


def test_label_moves_are_recorded_and_a_repeat_records_nothing(api, released):
    created = api.put(
        "/api/v1/prompts/cls/labels/staging", {"version": 2, "note": "try"}, format="json"
    )
    assert created.status_code == 201 and created.json()["version"] == 2
    same = api.put("/api/v1/prompts/cls/labels/staging", {"version": 2}, format="json")
    assert same.status_code == 200 and len(same.json()["history"]) == 1
    labels = api.get("/api/v1/prompts/cls/labels").json()
    assert [(row["label"], row["version"], row["implicit"]) for row in labels] == [
        ("production", 1, False),
        ("staging", 2, False),
        ("latest", 2, True),
    ]
    move = labels[1]["history"][0]
    assert move["moved_by"] == "token test token" and move["note"] == "try"


@pytest.mark.parametrize(
    ("label", "body", "status", "field"),
    [
        ("latest", {"version": 1}, 400, "label"),
        ("Bad_Label", {"version": 1}, 400, "label"),
        ("production", {"version": 9}, 400, "version"),
        ("production", {"version": 0}, 400, "version"),
        ("production", {"version": "two"}, 400, "version"),
        ("production", {}, 400, "version"),
        ("production", {"version": 1, "note": "x" * 501}, 400, "note"),
    ],
)
def test_invalid_label_moves_are_refused(api, released, label, body, status, field):
    response = api.put(f"/api/v1/prompts/cls/labels/{label}", body, format="json")
    assert response.status_code == status
    assert field in errors_of(response)
    assert PromptLabelMove.objects.count() == 1


def test_protected_labels_move_only_for_admins(api, make_prompt, team, member_factory):
    make_prompt(
        team,
        "guarded",
        chat_content("a"),
        chat_content("b"),
        protected=["production"],
        labels={"production": 1},
    )
    url = "/api/v1/prompts/guarded/labels/production"
    assert api.put(url, {"version": 2}, format="json").status_code == 403  # tokens have no role
    editor = session_client(team, member_factory, Role.EDITOR)
    refused = editor.put(url, {"version": 2}, format="json")
    assert refused.status_code == 403 and "only a team admin" in refused.json()["detail"]
    viewer = session_client(team, member_factory, Role.VIEWER)
    assert viewer.put(url, {"version": 2}, format="json").status_code == 403
    admin = session_client(team, member_factory, Role.ADMIN)
    assert admin.put(url, {"version": 2}, format="json").json()["version"] == 2
    assert (
        editor.put(
            "/api/v1/prompts/guarded/labels/staging", {"version": 2}, format="json"
        ).status_code
        == 201
    )


def test_a_label_move_fires_the_webhook_and_the_signal_after_commit(
    api, released, team, settings, django_capture_on_commit_callbacks
):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    webhook_create(team=team, url="http://127.0.0.1:9/hook", events=["prompt.label_moved"])
    received = []

    def receiver(sender, **kwargs):
        received.append(kwargs)

    prompt_label_moved.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            api.put(
                "/api/v1/prompts/cls/labels/production", {"version": 2, "note": "go"}, format="json"
            )
        assert received == []  # nothing before the commit
        for callback in callbacks:
            callback()
    finally:
        prompt_label_moved.disconnect(receiver)
    (kwargs,) = received
    assert kwargs["label"] == "production" and kwargs["template"].slug == "cls"
    assert (kwargs["from_version"].number, kwargs["to_version"].number) == (1, 2)
    delivery = WebhookDelivery.objects.get(event="prompt.label_moved")
    assert delivery.payload == {
        "prompt": "cls",
        "label": "production",
        "from_version": 1,
        "to_version": 2,
        "hash": kwargs["to_version"].content_hash,
        "static_tokens": kwargs["to_version"].static_tokens,
        "moved_by": "token test token",
        "moved_at": delivery.payload["moved_at"],
        "note": "go",
    }


def test_an_unchanged_label_fires_nothing(api, released, team, settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    webhook_create(team=team, url="http://127.0.0.1:9/hook", events=["prompt.label_moved"])
    api.put("/api/v1/prompts/cls/labels/production", {"version": 1}, format="json")
    assert not WebhookDelivery.objects.exists()


# The published schema ---------------------------------------------------------------------------


def test_the_schema_documents_every_prompt_operation_and_its_answers(client):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    expected = {
        ("/api/v1/prompts", "get"): {"200", "400", "401", "403", "404", "429"},
        ("/api/v1/prompts", "post"): {"201", "400", "413", "415"},
        ("/api/v1/prompts/{slug}/versions", "post"): {"200", "201", "400", "404", "413", "415"},
        ("/api/v1/prompts/{slug}/resolve", "get"): {"200", "304", "400", "404", "409"},
        ("/api/v1/prompts/{slug}/render", "post"): {"200", "400", "404", "409"},
        ("/api/v1/prompts/{slug}/labels/{label}", "put"): {"200", "201", "400", "403", "404"},
        ("/api/v1/prompts/{slug}/labels", "get"): {"200", "404"},
    }
    for (path, method), statuses in expected.items():
        documented = set(schema["paths"][path][method]["responses"])
        assert statuses <= documented, (path, method, documented)
    error = schema["paths"]["/api/v1/prompts/{slug}/render"]["post"]["responses"]["400"]
    assert error["content"]["application/json"]["schema"]["$ref"].endswith("/Error")


# No input is a 500 ------------------------------------------------------------------------------

JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)
FIELDS = {
    "kind": st.sampled_from(["chat", "text", "x"]) | JSON,
    "messages": st.lists(
        st.fixed_dictionaries(
            {},
            optional={
                "role": st.sampled_from(["system", "user"]) | JSON,
                "content": st.text(max_size=40) | JSON,
                "type": st.sampled_from(["placeholder", "message"]) | JSON,
                "name": st.text(max_size=8),
            },
        ),
        max_size=3,
    )
    | JSON,
    "text": st.text(max_size=40) | JSON,
    "model": st.sampled_from([MODEL, "gpt 4"]) | JSON,
    "config": st.fixed_dictionaries(
        {}, optional={"temperature": JSON, "max_tokens": JSON, "response_format": JSON, "x": JSON}
    )
    | JSON,
    "few_shot": st.lists(
        st.fixed_dictionaries({}, optional={"input": JSON, "output": JSON}), max_size=2
    )
    | JSON,
    "label": JSON,
    "version": JSON,
    "variables": JSON,
    "placeholders": JSON,
    "note": JSON,
    "slug": st.sampled_from(["ok-slug", "Bad"]) | JSON,
    "name": JSON,
    "tags": JSON,
    "protected_labels": JSON,
    "gate": JSON,
}
BODIES = st.fixed_dictionaries({}, optional=FIELDS) | JSON
TEMPLATE_CHARS = st.lists(
    st.sampled_from(
        [
            *"{}%#-|.()_'\" ~*xa0\n",
            "__class__",
            "range(",
            "loop",
            "few_shot",
            "include_prompt",
            "for",
            "in",
            "if",
            "endfor",
            "endif",
            "set",
            "=",
        ]
    ),
    max_size=30,
).map("".join)


@settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=BODIES, template=TEMPLATE_CHARS)
def test_no_body_is_a_server_error(api, released, body, template):
    for method, url in [
        ("post", "/api/v1/prompts"),
        ("post", "/api/v1/prompts/cls/versions"),
        ("post", "/api/v1/prompts/cls/render"),
        ("patch", "/api/v1/prompts/cls"),
        ("put", "/api/v1/prompts/cls/labels/staging"),
    ]:
        response = getattr(api, method)(url, body, format="json")
        assert response.status_code < 500, (url, body, response.content)
    chat = {**VERSION, "messages": [{"role": "user", "content": template}]}
    response = api.post("/api/v1/prompts/cls/versions", chat, format="json")
    assert response.status_code < 500, (template, response.content)
    if response.status_code in (200, 201):
        rendered = api.post(
            "/api/v1/prompts/cls/render", {"version": response.json()["version"]}, format="json"
        )
        assert rendered.status_code < 500, (template, rendered.content)


@pytest.fixture(scope="module")
def published(django_db_blocker):
    return PublishedSchema.fetch(django_db_blocker)


def test_responses_match_the_published_schema(published, api, reader, released, make_prompt, team):
    make_prompt(team, "tone", text_content("Be kind to {{ who }}."), labels={"production": 1})
    body = {
        **VERSION,
        "messages": [
            *VERSION["messages"],
            {"role": "user", "content": '{% include_prompt "tone" %}'},
        ],
    }
    etag = reader.get("/api/v1/prompts/cls/resolve")["ETag"]
    responses = [
        api.get("/api/v1/prompts"),
        api.post("/api/v1/prompts", {"slug": "more", "name": "More"}, format="json"),
        api.post("/api/v1/prompts", {}, format="json"),
        api.get("/api/v1/prompts/cls"),
        api.patch("/api/v1/prompts/cls", {"tags": ["a"]}, format="json"),
        api.post("/api/v1/prompts/cls/versions", body, format="json"),
        api.post("/api/v1/prompts/cls/versions", body, format="json"),
        api.post("/api/v1/prompts/cls/versions", {"kind": "chat"}, format="json"),
        api.get("/api/v1/prompts/cls/versions"),
        api.get("/api/v1/prompts/cls/versions/3"),
        api.get("/api/v1/prompts/cls/versions/9"),
        reader.get("/api/v1/prompts/cls/resolve?label=latest"),
        reader.get("/api/v1/prompts/cls/resolve", HTTP_IF_NONE_MATCH=etag),
        reader.get("/api/v1/prompts/x/resolve"),
        reader.post(
            "/api/v1/prompts/cls/render",
            {"variables": {"ticket": "t"}, "placeholders": {"history": []}},
            format="json",
        ),
        reader.post("/api/v1/prompts/cls/render", {}, format="json"),
        api.get("/api/v1/prompts/cls/labels"),
        api.put("/api/v1/prompts/cls/labels/staging", {"version": 3}, format="json"),
        api.put("/api/v1/prompts/cls/labels/staging", {"version": 2}, format="json"),
        api.put("/api/v1/prompts/cls/labels/staging", {"version": 99}, format="json"),
        api.get("/api/v1/prompts/cls/labels/staging"),
    ]
    for response in responses:
        published.check(response)
    statuses = {(method, path, status) for method, path, status in published.checked}
    assert ("GET", "/api/v1/prompts/{slug}/resolve", 304) in statuses
    assert ("PUT", "/api/v1/prompts/{slug}/labels/{label}", 201) in statuses
