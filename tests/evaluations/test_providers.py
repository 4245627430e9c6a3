"""Providers: keys encrypted and never shown back, the outgoing-address rule, connection tests
over real HTTP to the demo endpoint, pages and API."""

from __future__ import annotations

import logging

import pytest
from django.urls import reverse

from evaluations.crypto import decrypt
from evaluations.demo import DEMO_PROVIDER, seed_provider
from evaluations.models import Provider
from evaluations.services.providers import provider_create, provider_test_connection
from teams.models import Role
from tests.test_platform import run_settings

pytestmark = pytest.mark.django_db

SECRET = "sk-test-0123456789-very-secret"
# The machine is offline: public addresses are written as IP literals, which need no DNS.


@pytest.fixture
def private_ok(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


def add(team, **fields):
    defaults = {"name": "Local", "base_url": "https://1.1.1.1/v1"}
    return provider_create(team=team, **{**defaults, **fields})


# Keys ---------------------------------------------------------------------------------------


def test_the_key_is_stored_encrypted_and_decrypts(team):
    provider = add(team, api_key=SECRET)
    stored = Provider.objects.values_list("api_key_ciphertext", flat=True).get(pk=provider.pk)
    assert SECRET not in stored and stored.startswith("gAAAA")  # a Fernet token
    assert decrypt(stored) == SECRET
    assert provider.api_key_source == "stored"


def test_a_rotated_key_still_decrypts_old_secrets(team, settings):
    from cryptography.fernet import Fernet

    provider = add(team, api_key=SECRET)
    settings.FIELD_ENCRYPTION_KEYS = [
        Fernet.generate_key().decode(),
        *settings.FIELD_ENCRYPTION_KEYS,
    ]
    assert decrypt(Provider.objects.get(pk=provider.pk).api_key_ciphertext) == SECRET


def test_a_key_encrypted_with_a_removed_key_is_reported_not_crashed(team, settings, private_ok):
    from cryptography.fernet import Fernet

    provider = add(team, api_key=SECRET, base_url="http://127.0.0.1:9/v1")
    settings.FIELD_ENCRYPTION_KEYS = [Fernet.generate_key().decode()]
    check = provider_test_connection(provider=provider)
    assert not check.ok and "cannot be decrypted" in check.error


def test_production_without_an_encryption_key_fails_loudly():
    result = run_settings({"DEBUG": "0", "SECRET_KEY": "x" * 60})
    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEY is required when DEBUG is off" in result.stderr


def test_a_malformed_encryption_key_fails_loudly():
    result = run_settings({"DEBUG": "1", "FIELD_ENCRYPTION_KEY": "not-a-key"})
    assert result.returncode != 0 and "must be Fernet keys" in result.stderr


def test_the_key_is_never_shown_in_the_api_pages_or_admin(team, user, admin_client,
                                                            api_client_factory):  # fmt: skip
    provider = add(team, api_key=SECRET)
    api = api_client_factory(team, "evaluations:read")
    user.is_staff = user.is_superuser = True
    user.save()
    pages = [
        api.get("/api/v1/providers"),
        api.get(f"/api/v1/providers/{provider.pk}"),
        admin_client.get(reverse("evaluations:provider_list", args=[team.slug])),
        admin_client.get(reverse("evaluations:provider_edit", args=[team.slug, provider.pk])),
        admin_client.get(f"/admin/evaluations/provider/{provider.pk}/change/"),
    ]
    ciphertext = Provider.objects.get(pk=provider.pk).api_key_ciphertext
    for response in pages:
        assert response.status_code == 200
        body = response.content.decode()
        assert SECRET not in body and ciphertext not in body
    assert pages[1].json()["api_key_source"] == "stored" and "api_key" not in pages[1].json()


def test_an_endpoint_echoing_a_wrong_key_is_redacted(team, demo_llm_server, private_ok, caplog):
    provider = add(team, base_url=demo_llm_server, api_key="invalid")  # the demo endpoint's 401
    with caplog.at_level(logging.DEBUG):
        check = provider_test_connection(provider=provider)
    assert not check.ok and check.error.startswith("auth 401")
    assert "invalid" not in check.error.replace("invalid_api_key", "")
    assert "[redacted]" in check.error
    assert "invalid (simulated" not in caplog.text


# Environment variables -----------------------------------------------------------------------


def test_an_environment_variable_must_be_allowed_by_the_operator(team, api_client_factory,
                                                                 settings):  # fmt: skip
    api = api_client_factory(team, "evaluations:write")
    body = {"name": "Env", "base_url": "https://1.1.1.1/v1", "api_key_env": "SECRET_KEY"}
    response = api.post("/api/v1/providers", body, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "api_key_env"
    assert "PROVIDER_KEY_ENV_VARS" in response.json()["errors"][0]["message"]
    settings.PROVIDER_KEY_ENV_VARS = ["OPENAI_API_KEY"]
    response = api.post("/api/v1/providers", body, format="json")
    assert (
        "not one of the variables this server allows: OPENAI_API_KEY" in response.content.decode()
    )
    body["api_key_env"] = "OPENAI_API_KEY"
    response = api.post("/api/v1/providers", body, format="json")
    assert response.status_code == 201 and response.json()["api_key_source"] == "environment"


def test_the_key_is_read_from_the_environment_at_call_time(team, demo_llm_factory, settings,
                                                           monkeypatch, private_ok):  # fmt: skip
    settings.PROVIDER_KEY_ENV_VARS = ["DEMO_KEY"]
    server = demo_llm_factory()
    provider = add(team, base_url=server.base_url, api_key_env="DEMO_KEY")
    assert "DEMO_KEY is not set" in provider_test_connection(provider=provider).error
    monkeypatch.setenv("DEMO_KEY", "invalid")
    assert provider_test_connection(provider=provider).error.startswith("auth 401")
    monkeypatch.setenv("DEMO_KEY", "fine")
    assert provider_test_connection(provider=provider).ok


# Outgoing addresses and the connection test --------------------------------------------------


def test_private_addresses_are_refused_unless_allowed(team, api_client_factory, settings):
    api = api_client_factory(team, "evaluations:write")
    for url in ("http://127.0.0.1:8089/v1", "http://169.254.169.254/latest", "http://10.0.0.5/v1"):
        response = api.post("/api/v1/providers", {"name": url, "base_url": url}, format="json")
        assert response.status_code == 400, url
        error = response.json()["errors"][0]
        assert (
            error["field"] == "base_url" and "private, loopback or link-local" in error["message"]
        )
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    body = {"name": "Local", "base_url": "http://127.0.0.1:8089/v1"}
    assert api.post("/api/v1/providers", body, format="json").status_code == 201


def test_the_rule_is_checked_again_before_calling(team, demo_llm_server, settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    provider = add(team, base_url=demo_llm_server)
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = False
    check = provider_test_connection(provider=provider)
    assert not check.ok and "private, loopback or link-local" in check.error


def test_connection_test_lists_the_demo_endpoints_models(team, demo_llm_server, private_ok):
    provider = add(team, base_url=demo_llm_server)
    check = provider_test_connection(provider=provider)
    assert check.ok and check.simulated
    assert check.models == ["demo-fine-tuned", "demo-hybrid", "demo-prompted"]
    provider.refresh_from_db()
    assert provider.available_models == check.models and provider.is_simulated
    assert provider.checked_at is not None and provider.check_error == ""


def test_connection_test_reports_an_unreachable_endpoint(team, private_ok):
    provider = add(team, base_url="http://127.0.0.1:9/v1")
    check = provider_test_connection(provider=provider)
    assert not check.ok and check.error.startswith("connection")
    provider.refresh_from_db()
    assert provider.check_error == check.error


def test_connection_test_does_not_follow_redirects(team, http_receiver, private_ok):
    http_receiver.respond_with(302)
    provider = add(team, base_url=http_receiver.url + "/v1")
    check = provider_test_connection(provider=provider)
    assert not check.ok
    assert len(http_receiver.requests) == 1


def test_api_test_endpoint(team, api_client_factory, demo_llm_server, private_ok):
    provider = add(team, base_url=demo_llm_server)
    api = api_client_factory(team, "evaluations:read", "evaluations:write")
    response = api.post(f"/api/v1/providers/{provider.pk}/test")
    assert response.status_code == 200
    assert response.json()["ok"] and "demo-prompted" in response.json()["models"]
    assert api.get(f"/api/v1/providers/{provider.pk}").json()["is_simulated"] is True


# API ---------------------------------------------------------------------------------------


def test_api_scopes(team, api_client_factory):
    reader = api_client_factory(team, "evaluations:read")
    assert reader.get("/api/v1/providers").status_code == 200
    body = {"name": "X", "base_url": "https://1.1.1.1/v1"}
    assert reader.post("/api/v1/providers", body, format="json").status_code == 403
    assert api_client_factory(team, "prompts:read").get("/api/v1/providers").status_code == 403


def test_api_create_patch_and_delete(team, api_client_factory):
    api = api_client_factory(team, "evaluations:read", "evaluations:write")
    body = {"name": "OpenAI", "base_url": "https://8.8.8.8/v1", "api_key": SECRET}
    created = api.post("/api/v1/providers", body, format="json")
    assert created.status_code == 201 and created.json()["api_key_source"] == "stored"
    pk = created.json()["id"]
    again = api.post("/api/v1/providers", body, format="json")
    assert again.status_code == 400 and again.json()["errors"][0]["field"] == "name"
    renamed = api.patch(f"/api/v1/providers/{pk}", {"name": "OpenAI EU"}, format="json")
    assert renamed.json()["name"] == "OpenAI EU" and renamed.json()["api_key_source"] == "stored"
    assert decrypt(Provider.objects.get(pk=pk).api_key_ciphertext) == SECRET  # kept
    cleared = api.patch(f"/api/v1/providers/{pk}", {"clear_api_key": True}, format="json")
    assert cleared.json()["api_key_source"] == "none"
    both = api.patch(f"/api/v1/providers/{pk}", {"api_key": "k", "api_key_env": "K"}, format="json")
    assert both.status_code == 400
    assert api.delete(f"/api/v1/providers/{pk}").status_code == 204
    assert not Provider.objects.filter(pk=pk).exists()


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": "", "base_url": "https://1.1.1.1"},
        {"name": "x", "base_url": "ftp://1.1.1.1"},
        {"name": "x", "base_url": "not a url"},
        {"name": "x" * 101, "base_url": "https://1.1.1.1"},
        {"name": "x", "base_url": "https://user:pw@1.1.1.1"},
        {"name": "x", "base_url": "https://1.1.1.1", "api_key_env": "1BAD"},
        {"name": ["x"], "base_url": 3},
    ],
)
def test_api_rejects_bad_bodies_with_field_errors(team, api_client_factory, body):
    api = api_client_factory(team, "evaluations:write")
    response = api.post("/api/v1/providers", body, format="json")
    assert response.status_code == 400
    assert all(error["field"] for error in response.json()["errors"])
    assert not Provider.objects.exists()


# Pages ---------------------------------------------------------------------------------------


def test_page_add_edit_keep_key_and_delete(admin_client, team):
    url = reverse("evaluations:provider_create", args=[team.slug])
    body = {"name": "Acme LLM", "base_url": "https://9.9.9.9/v1", "api_key": SECRET,
            "api_key_env": ""}  # fmt: skip
    assert admin_client.post(url, body).status_code == 302
    provider = Provider.objects.get(name="Acme LLM")
    edit = reverse("evaluations:provider_edit", args=[team.slug, provider.pk])
    page = admin_client.get(edit).content.decode()
    assert SECRET not in page and "Leave empty to keep it" in page
    body.update(name="Acme LLM 2", api_key="")
    assert admin_client.post(edit, body).status_code == 302
    provider.refresh_from_db()
    assert provider.name == "Acme LLM 2" and decrypt(provider.api_key_ciphertext) == SECRET
    delete = reverse("evaluations:provider_delete", args=[team.slug, provider.pk])
    assert admin_client.post(delete).status_code == 302
    assert not Provider.objects.exists()


def test_page_shows_field_errors(admin_client, team):
    url = reverse("evaluations:provider_create", args=[team.slug])
    response = admin_client.post(url, {"name": "x", "base_url": "http://127.0.0.1/v1"})
    assert response.status_code == 200
    assert "private, loopback or link-local" in response.content.decode()


def test_page_test_connection_with_htmx(admin_client, team, demo_llm_server, private_ok):
    provider = add(team, base_url=demo_llm_server)
    url = reverse("evaluations:provider_test", args=[team.slug, provider.pk])
    response = admin_client.post(url, HTTP_HX_REQUEST="true")
    html = response.content.decode()
    assert html.strip().startswith(f'<tr id="provider-{provider.pk}">')
    assert "demo-prompted" in html and "simulated" in html


def test_viewers_cannot_change_providers(client, team, member_factory):
    provider = add(team)
    client.force_login(member_factory(team, Role.VIEWER))
    assert client.get(reverse("evaluations:provider_list", args=[team.slug])).status_code == 200
    url = reverse("evaluations:provider_delete", args=[team.slug, provider.pk])
    assert client.post(url).status_code == 403
    assert Provider.objects.filter(pk=provider.pk).exists()


def test_provider_list_has_constant_queries(admin_client, team, django_assert_num_queries):
    for n in range(4):
        add(team, name=f"P{n}")
    url = reverse("evaluations:provider_list", args=[team.slug])
    admin_client.get(url)
    with django_assert_num_queries(5):  # session, user, membership, team menu, providers
        assert admin_client.get(url).status_code == 200


def test_seed_demo_registers_the_simulated_endpoint_on_the_dev_port(team, monkeypatch):
    monkeypatch.setenv("DEMO_LLM_PORT", "8339")
    provider = seed_provider(team)
    assert (provider.name, provider.base_url) == (DEMO_PROVIDER, "http://127.0.0.1:8339/v1")
    assert provider.is_simulated
    monkeypatch.setenv("DEMO_LLM_PORT", "8400")
    seed_provider(team)
    assert Provider.objects.get().base_url == "http://127.0.0.1:8400/v1"


def test_an_error_report_does_not_show_the_key(admin_client, team, settings, monkeypatch):
    """Reports of server errors (e-mails to admins) list POST data and every frame's local
    variables; the key is masked in both."""
    import sys

    from django.core.signals import got_request_exception
    from django.views.debug import ExceptionReporter

    settings.DEBUG = False
    reports: list[str] = []

    def report(sender, request, **kwargs):
        reports.append(ExceptionReporter(request, *sys.exc_info()).get_traceback_text())

    monkeypatch.setattr("evaluations.services.providers._save", lambda provider: 1 / 0)
    got_request_exception.connect(report)
    admin_client.raise_request_exception = False
    body = {"name": "Boom", "base_url": "https://1.1.1.1/v1", "api_key": SECRET, "api_key_env": ""}
    try:
        response = admin_client.post(reverse("evaluations:provider_create", args=[team.slug]), body)
    finally:
        got_request_exception.disconnect(report)
    assert response.status_code == 500
    assert "ZeroDivisionError" in reports[0] and "api_key" in reports[0]
    assert SECRET not in reports[0]
