"""Browser pages of the registry, through the Django test client."""

from __future__ import annotations

import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evaluations import llm_client
from evaluations.demo_llm import serve_in_thread
from prompts import playground
from prompts.models import PromptLabelMove, PromptTemplate, PromptVersion
from teams.models import Role
from tests.evaluations.conftest import TEST_CONFIG
from tests.prompts.helpers import chat_content

pytestmark = pytest.mark.django_db


def url(team, *parts) -> str:
    return "/" + "/".join(["t", team.slug, "prompts", *map(str, parts)]) + "/"


def editor_post(**fields) -> dict:
    """A new-version form as the editor page posts it: one system and one user message."""
    data = {
        "kind": "chat",
        "model": "gpt-4o-mini",
        "message_count": "2",
        "message-0-type": "message",
        "message-0-role": "system",
        "message-0-content": "You classify tickets.",
        "message-1-type": "message",
        "message-1-role": "user",
        "message-1-content": "Ticket: {{ ticket }}",
        "example_count": "0",
        "temperature": "0.2",
        "commit_message": "first",
        "action": "save",
    }
    data.update(fields)
    return data


@pytest.fixture
def classifier(make_prompt, team):
    return make_prompt(
        team,
        "cls",
        chat_content("You classify.", "Ticket: {{ ticket }}"),
        chat_content("You classify tickets.\nAnswer JSON.", "Ticket: {{ ticket }}"),
        labels={"production": 2},
        tags=["support"],
        description="Routes support tickets",
    )


# List and create --------------------------------------------------------------------------------


def test_the_list_searches_and_filters_by_tag(admin_client, team, make_prompt, classifier):
    make_prompt(team, "persona", chat_content("You are TaskMaster."), tags=["persona"])
    page = admin_client.get(url(team))
    assert page.status_code == 200
    assert (
        b"Ticket classifier" not in page.content and b"production \xe2\x86\x92 v2" in page.content
    )
    partial = admin_client.get(url(team) + "?q=routes", HTTP_HX_REQUEST="true")
    assert b"Cls" in partial.content and b"Persona" not in partial.content
    assert b"<html" not in partial.content
    tagged = admin_client.get(url(team) + "?tag=persona").content.decode()
    assert "/prompts/persona/" in tagged and "/prompts/cls/" not in tagged


def test_the_list_costs_the_same_queries_for_one_or_many_prompts(admin_client, team, make_prompt):
    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url(team)).status_code == 200
        return len(queries)

    make_prompt(team, "p0", chat_content("a"), labels={"production": 1})
    one = count()
    for i in range(1, 8):
        make_prompt(team, f"p{i}", chat_content("a"), chat_content("b"), labels={"staging": 2})
    assert count() == one


def test_creating_a_prompt_leads_to_its_first_version(admin_client, team):
    response = admin_client.post(
        url(team, "new"),
        {
            "slug": "triage",
            "name": "Triage",
            "tags": "support, json",
            "protected_labels": "production",
        },
    )
    assert response.status_code == 302 and response.url == url(team, "triage", "versions", "new")
    template = PromptTemplate.objects.get(slug="triage")
    assert template.tags == ["support", "json"] and template.protected_labels == ["production"]


def test_an_invalid_prompt_shows_the_error_next_to_the_field(admin_client, team):
    response = admin_client.post(url(team, "new"), {"slug": "Not OK", "name": "x"})
    assert response.status_code == 400
    assert b"Use lowercase letters, digits and hyphens" in response.content
    assert not PromptTemplate.objects.exists()


# The version editor -----------------------------------------------------------------------------


def test_saving_the_editor_creates_a_version(admin_client, team, make_prompt):
    make_prompt(team, "cls")
    response = admin_client.post(url(team, "cls", "versions", "new"), editor_post())
    assert response.status_code == 302 and response.url == url(team, "cls", "versions", 1)
    version = PromptVersion.objects.get()
    assert version.messages[1] == {"role": "user", "content": "Ticket: {{ ticket }}"}
    assert version.config == {"temperature": 0.2} and version.variables == ["ticket"]
    again = admin_client.post(url(team, "cls", "versions", "new"), editor_post(), follow=True)
    assert b"no new version was created" in again.content
    assert PromptVersion.objects.count() == 1


def test_the_editor_starts_from_the_latest_or_a_chosen_version(admin_client, team, classifier):
    latest = admin_client.get(url(team, "cls", "versions", "new")).content.decode()
    assert "Answer JSON." in latest and "Starting from version 2" in latest
    older = admin_client.get(url(team, "cls", "versions", "new") + "?from=1").content.decode()
    assert "Answer JSON." not in older and "Starting from version 1" in older


def test_rows_are_added_and_removed_without_script(admin_client, team, make_prompt):
    make_prompt(team, "cls")
    editor = url(team, "cls", "versions", "new")
    added = admin_client.post(editor, editor_post(action="add-placeholder")).content.decode()
    assert 'name="message-2-name"' in added and 'value="history"' in added and "autofocus" in added
    example = admin_client.post(editor, editor_post(action="add-example")).content.decode()
    assert 'name="example-0-input"' in example
    removed = admin_client.post(editor, editor_post(action="remove-message:0")).content.decode()
    assert "You classify tickets." not in removed and 'name="message_count" value="1"' in removed
    text = admin_client.post(editor, editor_post(action="kind:text")).content.decode()
    assert 'name="text"' in text and "You classify tickets." in text
    assert not PromptVersion.objects.exists()


def test_an_invalid_template_is_shown_under_its_message(admin_client, team, make_prompt):
    make_prompt(team, "cls")
    response = admin_client.post(
        url(team, "cls", "versions", "new"),
        editor_post(**{"message-1-content": "{{ ticket.__class__ }}", "temperature": "warm"}),
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "reach Python internals" in page and "Enter a number." in page
    assert "Ticket: {{ ticket.__class__ }}" not in page and "{{ ticket.__class__ }}" in page
    assert not PromptVersion.objects.exists()


def test_the_live_panel_shows_variables_tokens_and_warnings(admin_client, team, make_prompt):
    make_prompt(team, "cls")
    examples = {
        f"example-{i}-{side}": f"{side} {i}" for i in range(6) for side in ("input", "output")
    }
    response = admin_client.post(
        url(team, "cls", "versions", "analyze"),
        editor_post(example_count="6", **examples),
        HTTP_HX_REQUEST="true",
    )
    page = response.content.decode()
    assert "<html" not in page and "<code>ticket</code>" in page
    assert "6 few-shot examples (more than 5)" in page and "Static tokens" in page
    broken = admin_client.post(
        url(team, "cls", "versions", "analyze"),
        editor_post(**{"message-0-content": '{% include_prompt "nowhere" %}'}),
        HTTP_HX_REQUEST="true",
    )
    assert "no prompt &#x27;nowhere&#x27;" in broken.content.decode()
    assert not PromptVersion.objects.exists()


def test_viewers_see_but_cannot_save(client, team, member_factory, classifier):
    client.force_login(member_factory(team, Role.VIEWER))
    assert client.get(url(team, "cls")).status_code == 200
    assert client.post(url(team, "cls", "versions", "new"), editor_post()).status_code == 403
    moved = client.post(url(team, "cls", "labels", "move"), {"label": "production", "version": 1})
    assert moved.status_code == 403
    assert PromptVersion.objects.count() == 2


# The template page, labels and rollback ---------------------------------------------------------


def test_the_template_page_shows_versions_labels_and_history(admin_client, team, classifier):
    page = admin_client.get(url(team, "cls")).content.decode()
    assert "Roll back production to" not in page  # the first move has nothing to roll back to
    admin_client.post(
        url(team, "cls", "labels", "move"),
        {"label": "production", "version": 1, "note": "v2 mislabels refunds"},
    )
    page = admin_client.get(url(team, "cls")).content.decode()
    assert "v2 → v1 — “v2 mislabels refunds”" in page
    assert "Roll back production to v2" in page
    assert "v1" in page and "v2" in page and "support" in page


def test_rolling_back_is_one_click_and_is_recorded(admin_client, team, classifier):
    admin_client.post(url(team, "cls", "labels", "move"), {"label": "production", "version": 1})
    response = admin_client.post(
        url(team, "cls", "labels", "move"),
        {"label": "production", "version": 2, "note": "Rolled back from v1"},
        follow=True,
    )
    assert "production moved from version 1 to version 2." in response.content.decode()
    moves = list(
        PromptLabelMove.objects.order_by("-id").values_list(
            "from_version__number", "to_version__number"
        )
    )
    assert moves == [(1, 2), (2, 1), (None, 2)]


def test_label_moves_from_the_page_report_problems(admin_client, team, member_factory, make_prompt):
    make_prompt(
        team,
        "guarded",
        chat_content("a"),
        chat_content("b"),
        protected=["production"],
        labels={"production": 1},
    )
    bad = admin_client.post(
        url(team, "guarded", "labels", "move"), {"label": "latest", "version": 1}, follow=True
    )
    assert "latest is implicit" in bad.content.decode()
    missing = admin_client.post(
        url(team, "guarded", "labels", "move"), {"label": "production", "version": 7}, follow=True
    )
    assert "has no version 7" in missing.content.decode()
    admin_client.force_login(member_factory(team, Role.EDITOR))
    refused = admin_client.post(
        url(team, "guarded", "labels", "move"), {"label": "production", "version": 2}, follow=True
    )
    assert "only a team admin can move it" in refused.content.decode()
    assert PromptLabelMove.objects.count() == 1


def test_the_template_page_costs_the_same_queries_for_many_versions(
    admin_client, team, make_prompt
):
    def count(slug) -> int:
        with CaptureQueriesContext(connection) as queries:
            assert admin_client.get(url(team, slug)).status_code == 200
        return len(queries)

    make_prompt(team, "one", chat_content("a"), labels={"production": 1})
    many = [chat_content(f"v{i}") for i in range(12)]
    make_prompt(team, "many", *many, labels={"production": 3, "staging": 12})
    assert count("many") == count("one")


def test_settings_change_tags_and_the_gate_but_editors_not_protection(
    client, team, member_factory, classifier
):
    client.force_login(member_factory(team, Role.EDITOR))
    response = client.post(
        url(team, "cls", "settings"),
        {
            "name": "Classifier",
            "tags": "support, triage",
            "protected_labels": "",
            "gate_enabled": "on",
            "gate_metric": "accuracy",
            "gate_margin": "0.02",
        },
    )
    assert response.status_code == 302
    classifier.refresh_from_db()
    assert classifier.tags == ["support", "triage"] and classifier.gate_enabled
    assert classifier.protected_labels == []  # unchanged: the field is disabled for editors
    page = client.get(url(team, "cls")).content.decode()
    assert "whose accuracy is not worse" in page and "not enforced" not in page


# Version, playground, diff ----------------------------------------------------------------------


def test_the_version_page_shows_content_and_facts(admin_client, team, classifier):
    page = admin_client.get(url(team, "cls", "versions", 2)).content.decode()
    assert "Answer JSON." in page and "<code>ticket</code>" in page
    assert classifier.versions.get(number=2).content_hash in page
    assert admin_client.get(url(team, "cls", "versions", 99999999999999)).status_code == 404


def test_the_playground_renders_with_variables(admin_client, team, classifier):
    playground_url = url(team, "cls", "versions", 2, "playground")
    page = admin_client.get(playground_url).content.decode()
    assert "&quot;ticket&quot;: &quot;&quot;" in page
    rendered = admin_client.post(
        playground_url,
        {"variables": '{"ticket": "Refund please", "other": 1}', "action": "render"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Ticket: Refund please" in rendered and "Not used by the template: other" in rendered
    missing = admin_client.post(
        playground_url, {"variables": "{}", "action": "render"}, HTTP_HX_REQUEST="true"
    )
    assert missing.status_code == 400 and "variables.ticket" in missing.content.decode()
    not_json = admin_client.post(playground_url, {"variables": "{oops", "action": "render"})
    assert "not valid JSON" in not_json.content.decode()


@pytest.fixture
def demo_provider():
    """The simulated endpoint over real HTTP, registered as the app owning providers would."""
    with serve_in_thread(TEST_CONFIG) as server:
        client = llm_client.make_client(base_url=server.base_url, api_key=None)

        def call(model, messages, params):
            result = llm_client.chat(client, model=model, messages=messages, **params)
            return playground.Reply(
                result.text,
                result.input_tokens,
                result.output_tokens,
                result.latency_ms,
                result.model,
                str(result.error) if result.error else None,
            )

        def lister(team):
            return [playground.Provider("demo", "Demo endpoint (simulated)", call)]

        playground.register(lister)
        yield
        playground.unregister(lister)


def test_the_playground_calls_a_provider_when_there_is_one(
    admin_client, team, make_prompt, demo_provider
):
    make_prompt(
        team,
        "persona",
        chat_content(
            'You are TaskMaster. Vocabulary to use: "Nice work!"',
            "{{ message }}",
            model="demo-prompted",
        ),
    )
    playground_url = url(team, "persona", "versions", 1, "playground")
    assert "Demo endpoint (simulated)" in admin_client.get(playground_url).content.decode()
    page = admin_client.post(
        playground_url,
        {"variables": '{"message": "I finished the report"}', "action": "run", "provider": "demo"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    assert "Reply from demo-prompted" in page and "input tokens" in page
    assert "Nice work!" in page


def test_viewers_render_in_the_playground_but_do_not_call_models(
    client, team, member_factory, classifier, demo_provider
):
    client.force_login(member_factory(team, Role.VIEWER))
    playground_url = url(team, "cls", "versions", 2, "playground")
    ok = client.post(playground_url, {"variables": '{"ticket": "x"}', "action": "render"})
    assert ok.status_code == 200 and "Ticket: x" in ok.content.decode()
    assert "Call a model" not in client.get(playground_url).content.decode()
    run = client.post(
        playground_url, {"variables": '{"ticket": "x"}', "action": "run", "provider": "demo"}
    )
    assert run.status_code == 403


def test_the_diff_shows_changed_lines_side_by_side(admin_client, team, classifier):
    page = admin_client.get(url(team, "cls", "diff") + "?from=1&to=2").content.decode()
    assert "Changes from v1 to v2" in page
    assert (
        '<tr class="diff-replace"><td class="line-no">1</td><td class="old">You classify.</td>'
        in page
    )
    assert '<td class="new">Answer JSON.</td>' in page
    assert "Message 2 · user <small>(unchanged)</small>" in page
    assert admin_client.get(url(team, "cls", "diff") + "?from=1&to=9").status_code == 404


# Import and export ------------------------------------------------------------------------------


def test_export_then_import_under_another_slug_keeps_every_version(admin_client, team, classifier):
    exported = admin_client.get(url(team, "cls", "export"))
    assert exported["Content-Disposition"] == 'attachment; filename="cls.prompt.json"'
    data = json.loads(exported.content)
    upload = SimpleUploadedFile("cls.prompt.json", exported.content, "application/json")
    response = admin_client.post(url(team, "import"), {"file": upload, "slug": "cls-copy"})
    assert response.status_code == 302
    copy = PromptTemplate.objects.get(slug="cls-copy")
    hashes = list(copy.versions.order_by("number").values_list("content_hash", flat=True))
    assert hashes == [v["hash"] for v in data["versions"]]
    assert {row.label: row.version.number for row in copy.labels.all()} == {"production": 2}
    assert copy.tags == ["support"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d["versions"][1].update(text="tampered", kind="text", messages=[]), "hash"),
        (lambda d: d["versions"][0].update(version=3), "numbered 1, 2, 3"),
        (lambda d: d.update(labels={"production": 9}), "no version 9"),
        (lambda d: d.update(format="other/1"), "format"),
        (lambda d: d["versions"][0]["messages"][0].update(content="{{ x.__class__ }}"), "sandbox"),
    ],
)
def test_a_damaged_export_imports_nothing(admin_client, team, classifier, change, message):
    data = json.loads(admin_client.get(url(team, "cls", "export")).content)
    change(data)
    upload = SimpleUploadedFile("x.json", json.dumps(data).encode(), "application/json")
    response = admin_client.post(url(team, "import"), {"file": upload, "slug": "broken"})
    assert response.status_code == 400 and message in response.content.decode()
    assert not PromptTemplate.objects.filter(slug="broken").exists()


@pytest.mark.parametrize("raw", [b"not json", b"[1, 2]", b"\xff\xfe", b"[" * 50_000])
def test_a_file_that_is_not_an_export_is_refused(admin_client, team, raw):
    upload = SimpleUploadedFile("x.json", raw, "application/json")
    response = admin_client.post(url(team, "import"), {"file": upload})
    assert response.status_code == 400 and b"Not a" in response.content


def test_the_playground_calls_the_team_s_provider_over_http(
    admin_client, team, make_prompt, settings
):
    from evaluations.services.providers import provider_create

    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    make_prompt(team, "persona", chat_content("You are TaskMaster.", "{{ message }}"))
    playground_url = url(team, "persona", "versions", 1, "playground")
    with serve_in_thread(TEST_CONFIG) as server:
        provider = provider_create(
            team=team, name="Local demo", base_url=server.base_url, is_simulated=True
        )
        page = admin_client.get(playground_url).content.decode()
        assert "Local demo (simulated)" in page
        wrong_model = admin_client.post(
            playground_url,
            {"variables": '{"message": "hi"}', "action": "run", "provider": str(provider.pk)},
        ).content.decode()
        assert "gpt-4o-mini" in wrong_model and "does not exist" in wrong_model
        reply = admin_client.post(
            playground_url,
            {
                "variables": '{"message": "I finished the report"}',
                "action": "run",
                "provider": str(provider.pk),
                "model": "demo-fine-tuned",
            },
        ).content.decode()
    assert "Reply from demo-fine-tuned" in reply and "output tokens" in reply
