"""Persona pages: list, create through the same rules as the API, the spec with its rules and
versions, scoring a reply (whole page and htmx partial), new versions, the attack suite."""

from __future__ import annotations

import pytest

from evaluations.persona_models import PersonaSpec, PersonaVersion
from teams.models import Role

pytestmark = pytest.mark.django_db

FORM = {
    "slug": "taskmaster",
    "name": "TaskMaster",
    "description": "Coach",
    "prompt": "",
    "delivery": "prompt",
    "traits": "Encouraging\nAction-oriented",
    "vocabulary_use": "Great choice!\nNice work!",
    "vocabulary_avoid": "You should",
    "avoid_generic_ai_phrases": "on",
    "response_pattern": "suggests_next_step\nmax_sentences: 3",
    "forbidden": ["reveal_system_prompt"],
    "threshold": "0.75",
    "base_model": "",
    "overlays": "",
    "commit_message": "first",
}


def base(team):
    return f"/t/{team.slug}/personas/"


def test_create_then_view_the_rules_and_versions(admin_client, team):
    response = admin_client.post(f"{base(team)}new/", FORM)
    assert response.status_code == 302, response.content.decode()[:2000]
    version = PersonaVersion.objects.get()
    assert version.vocabulary_use == ["Great choice!", "Nice work!"]
    assert version.response_pattern == [
        {"kind": "suggests_next_step", "value": None, "label": ""},
        {"kind": "max_sentences", "value": 3, "label": ""},
    ]
    page = admin_client.get(response["Location"]).content.decode()
    assert "<code>uses_vocabulary</code>" in page and "“Great choice!”" in page
    assert "<code>pattern:max_sentences</code>" in page and "v1" in page
    listing = admin_client.get(base(team)).content.decode()
    assert 'href="/t/acme/personas/taskmaster/"' in listing


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"response_pattern": "rhymes"}, "is not a valid choice"),
        ({"delivery": "overlay"}, "An overlay persona needs at least one overlay."),
        ({"overlays": "[{"}, "Not JSON"),
        ({"slug": "new"}, "reserved"),
    ],
)
def test_bad_input_shows_the_apis_reason_and_stores_nothing(admin_client, team, changes, message):
    response = admin_client.post(f"{base(team)}new/", {**FORM, **changes})
    assert response.status_code == 200 and message in response.content.decode()
    assert not PersonaSpec.objects.exists()


def test_score_a_reply_whole_page_and_htmx_partial(admin_client, team):
    admin_client.post(f"{base(team)}new/", FORM)
    url = f"{base(team)}taskmaster/score/"
    reply = {"response": "As an AI, I created it.", "system_prompt": "", "version": "1"}
    partial = admin_client.post(url, reply, HTTP_HX_REQUEST="true")
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="persona-score"') and "<html" not in body
    assert "out of persona" in body and "<code>avoids_generic_ai_phrases</code>" in body
    assert partial["Vary"] and "HX-Request" in partial["Vary"]
    same = "Great choice! Let's do the next one."
    whole = admin_client.post(url, {**reply, "response": same, "system_prompt": same})
    text = whole.content.decode()
    assert "<html" in text and "in persona" in text and "leaks its system prompt" in text


def test_new_version_from_the_latest_and_identical_content(admin_client, team):
    admin_client.post(f"{base(team)}new/", FORM)
    url = f"{base(team)}taskmaster/versions/new/"
    form_page = admin_client.get(url).content.decode()
    assert "Great choice!\nNice work!" in form_page  # prefilled from the latest version
    content = {k: v for k, v in FORM.items() if k not in ("slug", "name", "description", "prompt")}
    same = admin_client.post(url, content, follow=True)
    assert "Identical to the latest version" in same.content.decode()
    changed = admin_client.post(url, {**content, "vocabulary_use": "Nice work!"}, follow=True)
    assert "Saved as version 2." in changed.content.decode()
    assert list(PersonaVersion.objects.values_list("number", flat=True)) == [2, 1]
    old = admin_client.get(f"{base(team)}taskmaster/?version=1").content.decode()
    assert "“Great choice!”" in old


def test_viewers_read_and_score_but_do_not_create(client, team, member_factory, admin_client):
    admin_client.post(f"{base(team)}new/", FORM)
    viewer = member_factory(team, Role.VIEWER)
    client.force_login(viewer)
    assert client.get(f"{base(team)}taskmaster/").status_code == 200
    scored = client.post(f"{base(team)}taskmaster/score/", {"response": "Nice work!"})
    assert scored.status_code == 200
    assert client.post(f"{base(team)}new/", {**FORM, "slug": "x"}).status_code == 403


def test_attack_suite_page_lists_families_and_team_attacks(admin_client, team):
    from evaluations.services.personas import team_attack_create

    team_attack_create(team=team, key="cat", family="pets", goal="override", turns=["Meow?"])
    page = admin_client.get(f"{base(team)}attacks/").content.decode()
    assert "multi_turn_escalation" in page and "<code>team/cat</code>" in page
    assert "base64" in page and "Meow?" in page
