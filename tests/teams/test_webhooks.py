from __future__ import annotations

import hashlib
import hmac
import time
from datetime import timedelta

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from teams import services
from teams.models import Webhook, WebhookDelivery, WebhookEvent

pytestmark = pytest.mark.django_db


def expected_signature(secret: str, header: str, body: bytes) -> tuple[int, str, str]:
    """Parse `t=…,v1=…` and recompute v1 independently of the code under test."""
    parts = dict(item.split("=", 1) for item in header.split(","))
    timestamp = int(parts["t"])
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return timestamp, parts["v1"], mac


@pytest.fixture
def private_targets_allowed(settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True


@pytest.fixture
def hook(team, http_receiver, private_targets_allowed):
    return services.webhook_create(
        team=team, url=f"{http_receiver.url}/hooks", events=[WebhookEvent.FLAG_RAISED]
    )


# Creating webhooks ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9000/hook",
        "http://localhost/hook",
        "http://10.1.2.3/hook",
        "http://192.168.0.10/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
        "http://0.0.0.0/hook",
    ],
)
def test_webhook_to_private_address_is_refused_and_nothing_is_saved(team, url):
    with pytest.raises(ValidationError) as exc:
        services.webhook_create(team=team, url=url, events=[WebhookEvent.FLAG_RAISED])
    assert "private, loopback or link-local" in exc.value.message_dict["url"][0]
    assert not Webhook.objects.exists()


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://93.184.215.14/hook", "Only http:// and https://"),
        ("javascript:alert(1)", "Only http:// and https://"),
        ("https:///nohost", "no host"),
        ("http://93.184.215.14:99999/", "not a valid URL"),
        ("https://user:pw@93.184.215.14/", "credentials"),
    ],
)
def test_webhook_url_must_be_plain_http_or_https(team, url, message):
    with pytest.raises(ValidationError) as exc:
        services.webhook_create(team=team, url=url, events=[WebhookEvent.FLAG_RAISED])
    assert message in exc.value.message_dict["url"][0]


def test_webhook_to_public_address_is_saved_with_a_fresh_secret(team):
    hook = services.webhook_create(
        team=team, url="https://93.184.215.14/hook", events=["flag.raised", "flag.resolved"]
    )
    other = services.webhook_create(
        team=team, url="https://93.184.215.14/b", events=["flag.raised"]
    )
    assert hook.secret.startswith("whsec_") and len(hook.secret) > 40
    assert hook.secret != other.secret


def test_private_addresses_are_allowed_when_the_setting_is_on(team, private_targets_allowed):
    hook = services.webhook_create(team=team, url="http://127.0.0.1:9/h", events=["flag.raised"])
    assert hook.url == "http://127.0.0.1:9/h"


def test_unknown_event_is_refused(team):
    with pytest.raises(ValidationError) as exc:
        services.webhook_create(team=team, url="https://93.184.215.14/", events=["flag.exploded"])
    assert "flag.exploded" in exc.value.message_dict["events"][0]


def test_settings_page_shows_url_error_next_to_the_field_and_keeps_input(admin_client, team):
    url = reverse("teams:webhooks", args=[team.slug])
    response = admin_client.post(url, {"url": "http://10.0.0.5/x", "events": ["flag.raised"]})
    assert response.status_code == 400
    form = response.context["form"]
    assert "private, loopback or link-local" in form.errors["url"][0]
    assert 'value="http://10.0.0.5/x"' in response.content.decode()
    assert not Webhook.objects.exists()


def test_created_webhook_secret_is_shown_once(admin_client, team):
    url = reverse("teams:webhooks", args=[team.slug])
    response = admin_client.post(
        url, {"url": "https://93.184.215.14/x", "events": ["flag.raised"]}, follow=True
    )
    secret = Webhook.objects.get().secret
    assert secret in response.content.decode()
    again = admin_client.get(
        reverse("teams:webhook_detail", args=[team.slug, Webhook.objects.get().pk])
    )
    assert secret not in again.content.decode()


# Emitting and delivering ------------------------------------------------------------------------


def test_emit_records_one_delivery_per_matching_active_webhook(team, other_team, hook):
    services.webhook_create(team=team, url=hook.url, events=[WebhookEvent.FLAG_RESOLVED])
    paused = services.webhook_create(team=team, url=hook.url, events=[WebhookEvent.FLAG_RAISED])
    Webhook.objects.filter(pk=paused.pk).update(is_active=False)
    services.webhook_create(team=other_team, url=hook.url, events=[WebhookEvent.FLAG_RAISED])

    deliveries = services.webhook_emit(team=team, event="flag.raised", payload={"workload": "x"})

    assert [d.webhook_id for d in deliveries] == [hook.pk]
    assert WebhookDelivery.objects.get().status == WebhookDelivery.Status.PENDING


def test_emit_enqueues_delivery_only_after_commit(team, hook, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        services.webhook_emit(team=team, event="flag.raised", payload={"n": 1})
    assert len(callbacks) == 1


def test_emit_refuses_an_unknown_event(team):
    with pytest.raises(ValueError, match="Unknown webhook event"):
        services.webhook_emit(team=team, event="nope", payload={})


def test_delivery_is_signed_with_hmac_sha256_of_timestamp_and_body(team, hook, http_receiver):
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={"workload": "w"})
    before = int(time.time())

    outcome = services.webhook_deliver(delivery_id=delivery.pk)

    assert outcome.status == WebhookDelivery.Status.DELIVERED
    [request] = http_receiver.requests
    assert request.method == "POST" and request.path == "/hooks"
    assert request.headers["Content-Type"] == "application/json"
    assert request.headers["X-Crossover-Event"] == "flag.raised"
    assert request.headers["X-Crossover-Delivery"] == str(delivery.pk)
    timestamp, given, computed = expected_signature(
        hook.secret, request.headers["X-Crossover-Signature"], request.body
    )
    assert given == computed
    assert before <= timestamp <= int(time.time())
    assert request.json() == {
        "id": delivery.pk,
        "event": "flag.raised",
        "team": "acme",
        "created_at": delivery.created_at.isoformat(),
        "data": {"workload": "w"},
    }
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.attempts, stored.response_status) == ("delivered", 1, 200)
    assert stored.delivered_at is not None


def test_signature_does_not_verify_with_another_secret(team, hook, http_receiver):
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={})
    services.webhook_deliver(delivery_id=delivery.pk)
    [request] = http_receiver.requests
    _, given, computed = expected_signature(
        "whsec_wrong", request.headers["X-Crossover-Signature"], request.body
    )
    assert given != computed


def test_failed_attempts_back_off_exponentially_then_give_up(team, hook, http_receiver, settings):
    settings.WEBHOOK_MAX_ATTEMPTS = 3
    settings.WEBHOOK_RETRY_BASE_SECONDS = 30
    http_receiver.default_status = 503
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={})

    first = services.webhook_deliver(delivery_id=delivery.pk)
    second = services.webhook_deliver(delivery_id=delivery.pk)
    third = services.webhook_deliver(delivery_id=delivery.pk)

    assert (first.status, first.retry_in) == ("retrying", 30)
    assert (second.status, second.retry_in) == ("retrying", 60)
    assert (third.status, third.retry_in) == ("failed", None)
    assert len(http_receiver.requests) == 3
    # Every attempt sends the same body (signed afresh).
    assert len({r.body for r in http_receiver.requests}) == 1
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.status, stored.attempts, stored.response_status) == ("failed", 3, 503)
    assert stored.last_error.startswith("HTTP 503")
    assert services.webhook_deliver(delivery_id=delivery.pk).status == "failed"
    assert len(http_receiver.requests) == 3


def test_a_private_address_at_delivery_time_fails_at_once_with_the_reason(
    team, hook, http_receiver, settings
):
    settings.WEBHOOK_MAX_ATTEMPTS = 6
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={})
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = False  # e.g. DNS now points somewhere private

    outcome = services.webhook_deliver(delivery_id=delivery.pk)

    assert (outcome.status, outcome.retry_in) == ("failed", None)
    assert http_receiver.requests == []
    stored = WebhookDelivery.objects.get()
    assert (stored.status, stored.attempts, stored.next_attempt_at) == ("failed", 1, None)
    assert stored.last_error.startswith("Refused by the outgoing address rule: 127.0.0.1")
    assert "private, loopback or link-local" in stored.last_error
    # Nothing re-queues it: the sweep only picks pending and retrying deliveries.
    assert services.webhook_requeue_stale(older_than=timedelta(0)) == 0


def test_a_host_that_does_not_resolve_at_delivery_time_is_retried(team, settings):
    # A label over 63 characters fails to resolve locally, without asking any DNS server.
    hook = Webhook.objects.create(
        team=team, url=f"http://{'a' * 64}.example/h", events=["flag.raised"], secret="s"
    )
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={})
    outcome = services.webhook_deliver(delivery_id=delivery.pk)
    assert outcome.status == "retrying"
    assert "does not resolve" in hook.deliveries.get().last_error


def test_unreachable_receiver_is_recorded_as_an_error(team, private_targets_allowed):
    hook = services.webhook_create(team=team, url="http://127.0.0.1:9/x", events=["flag.raised"])
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={})
    outcome = services.webhook_deliver(delivery_id=delivery.pk)
    assert outcome.status == "retrying"
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert stored.response_status is None and "ConnectError" in stored.last_error
    assert hook.deliveries.count() == 1


def test_duplicate_message_after_delivery_sends_nothing(team, hook, http_receiver):
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={})
    services.webhook_deliver(delivery_id=delivery.pk)
    again = services.webhook_deliver(delivery_id=delivery.pk)
    assert again.status == "delivered"
    assert len(http_receiver.requests) == 1
    assert WebhookDelivery.objects.get(pk=delivery.pk).attempts == 1


def test_delivery_log_lists_attempts_on_the_webhook_page(admin_client, team, hook, http_receiver):
    http_receiver.respond_with(500)
    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={})
    services.webhook_deliver(delivery_id=delivery.pk)
    page = admin_client.get(reverse("teams:webhook_detail", args=[team.slug, hook.pk]))
    html = page.content.decode()
    assert page.status_code == 200
    assert "flag.raised" in html and "Retrying" in html and "HTTP 500" in html
    assert hook.secret not in html


def test_webhook_list_has_no_n_plus_one(admin_client, team, hook, django_assert_num_queries):
    for n in range(3):
        services.webhook_create(team=team, url=f"{hook.url}/{n}", events=["flag.raised"])
    services.webhook_emit(team=team, event="flag.raised", payload={})
    url = reverse("teams:webhooks", args=[team.slug])
    # session, user, membership, webhooks (with counts), team switcher
    with django_assert_num_queries(5):
        assert admin_client.get(url).status_code == 200


# Through a real Celery worker -------------------------------------------------------------------


@pytest.fixture
def live_worker_env():
    return {"ALLOW_PRIVATE_NETWORK_TARGETS": "1", "WEBHOOK_RETRY_BASE_SECONDS": "1"}


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_real_worker_delivers_and_retries_with_backoff(live_worker, team, http_receiver, settings):
    settings.ALLOW_PRIVATE_NETWORK_TARGETS = True
    hook = services.webhook_create(team=team, url=http_receiver.url, events=["flag.raised"])
    http_receiver.respond_with(500, 502)  # then 200

    [delivery] = services.webhook_emit(team=team, event="flag.raised", payload={"k": "v"})

    requests = http_receiver.wait_for(3, timeout=60)
    deadline = time.monotonic() + 20
    while WebhookDelivery.objects.get(pk=delivery.pk).status != "delivered":
        assert time.monotonic() < deadline, "".join(live_worker.output[-30:])
        time.sleep(0.1)
    stored = WebhookDelivery.objects.get(pk=delivery.pk)
    assert (stored.attempts, stored.response_status) == (3, 200)
    # Backoff: 1 s after the first failure, 2 s after the second.
    assert requests[1].at - requests[0].at >= 0.9
    assert requests[2].at - requests[1].at >= 1.9
    for request in requests:
        _, given, computed = expected_signature(
            hook.secret, request.headers["X-Crossover-Signature"], request.body
        )
        assert given == computed
