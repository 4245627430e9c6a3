"""Sign-in throttling per username and per address (teams.login_throttle), on the site's login
page and the admin's; it fails open when the cache is down."""

from __future__ import annotations

import os
import time

import pytest
from django.core.cache import cache

from tests.factories import UserFactory
from tests.plugins.services import service_missing

pytestmark = pytest.mark.django_db

PASSWORD = "correct horse battery staple"
REFUSAL = "Too many failed sign-ins for this account or from your network."


@pytest.fixture(autouse=True)
def fresh_counters(settings):
    settings.LOGIN_FAILURES_PER_USER = 5
    settings.LOGIN_FAILURES_PER_IP = 50
    settings.LOGIN_THROTTLE_SECONDS = 900
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def member(db):
    user = UserFactory(username="ada")
    user.set_password(PASSWORD)
    user.save()
    return user


def sign_in(client, username, password, ip="192.0.2.1", path="/login/"):
    return client.post(path, {"username": username, "password": password}, REMOTE_ADDR=ip)


def signed_in(client) -> bool:
    return "_auth_user_id" in client.session


def test_the_right_password_is_refused_after_five_wrong_ones(client, member):
    for _ in range(5):
        assert sign_in(client, "ada", "wrong").status_code == 200
    response = sign_in(client, "ada", PASSWORD)
    assert response.status_code == 429
    assert REFUSAL in response.content.decode()
    assert "Try again in 15 minutes." in response.content.decode()
    assert 890 <= int(response["Retry-After"]) <= 900
    assert not signed_in(client)


def test_the_username_is_throttled_from_every_address(client, member):
    for n in range(5):
        sign_in(client, "ADA ", "wrong", ip=f"198.51.100.{n}")  # case and spaces do not matter
    assert sign_in(client, "ada", PASSWORD, ip="203.0.113.9").status_code == 429


def test_another_user_at_the_same_address_still_signs_in(client, member):
    other = UserFactory(username="grace")
    other.set_password(PASSWORD)
    other.save()
    for _ in range(5):
        sign_in(client, "ada", "wrong")
    assert sign_in(client, "grace", PASSWORD).status_code == 302
    assert signed_in(client)


def test_one_address_trying_many_usernames_is_throttled(client, member, settings):
    settings.LOGIN_FAILURES_PER_IP = 3
    for name in ("root", "admin", "test"):
        sign_in(client, name, "guess", ip="192.0.2.66")
    assert sign_in(client, "ada", PASSWORD, ip="192.0.2.66").status_code == 429
    assert sign_in(client, "ada", PASSWORD, ip="192.0.2.67").status_code == 302


def test_a_success_clears_the_usernames_failures(client, member):
    for _ in range(4):
        sign_in(client, "ada", "wrong")
    assert sign_in(client, "ada", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "ada", "wrong")
    assert sign_in(client, "ada", PASSWORD).status_code == 302


def test_the_throttle_ends_with_its_window(client, member, settings):
    # A window long enough for six sign-ins on a busy machine; then wait for its end, counted
    # from the first failure.
    settings.LOGIN_THROTTLE_SECONDS = 4
    started = time.monotonic()
    for _ in range(5):
        sign_in(client, "ada", "wrong")
    assert sign_in(client, "ada", PASSWORD).status_code == 429
    time.sleep(max(0.0, started + 4.3 - time.monotonic()))
    assert sign_in(client, "ada", PASSWORD).status_code == 302


def test_the_admin_sign_in_is_throttled_too(client, member):
    member.is_staff = True
    member.save()
    for _ in range(5):
        sign_in(client, "ada", "wrong", path="/admin/login/")
    response = sign_in(client, "ada", PASSWORD, path="/admin/login/")
    assert REFUSAL in response.content.decode()
    assert not signed_in(client)


def test_behind_a_proxy_the_forwarded_address_is_counted(client, member, settings):
    settings.TRUSTED_PROXIES = 1
    settings.LOGIN_FAILURES_PER_IP = 2
    for _ in range(2):
        client.post(
            "/login/",
            {"username": "nobody", "password": "x"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="spoofed, 192.0.2.50",
        )
    blocked = client.post(
        "/login/",
        {"username": "ada", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.50",
    )
    assert blocked.status_code == 429
    # Another client behind the same proxy is not affected.
    other = client.post(
        "/login/",
        {"username": "ada", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="192.0.2.51",
    )
    assert other.status_code == 302


def test_sign_in_fails_open_when_the_cache_is_down(client, member, settings):
    settings.CACHES = {
        "default": {
            "BACKEND": "config.cache.FailOpenRedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    for _ in range(10):
        assert sign_in(client, "ada", "wrong").status_code == 200
    assert sign_in(client, "ada", PASSWORD).status_code == 302


def test_sign_ins_are_throttled_on_redis(client, member, settings):
    url = os.environ.get("REDIS_URL")
    if not url:
        service_missing("REDIS_URL is not set")
    settings.CACHES = {"default": {"BACKEND": "config.cache.FailOpenRedisCache", "LOCATION": url}}
    cache.clear()
    for _ in range(5):
        sign_in(client, "ada", "wrong")
    assert sign_in(client, "ada", PASSWORD).status_code == 429
