"""`POST /api/v1/roi/evaluate`: the §8 figures over HTTP, strict validation, any caller."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db
URL = "/api/v1/roi/evaluate"

SEED_000 = {
    "monthly_requests": 500_000,
    "user_tokens": 50,
    "prompt_overhead_tokens": 500,
    "output_tokens": 200,
    "input_price_per_1m": 0.15,
    "output_price_per_1m": 0.60,
    "ft_price_multiplier": 2,
}


@pytest.fixture
def api(team, api_client_factory):
    # Any scope will do: the endpoint reads and stores nothing of the team.
    return api_client_factory(team, "usage:write")


def errors_of(response) -> dict[str, str]:
    assert response.status_code == 400, response.content
    return {e["field"]: e["message"] for e in response.json()["errors"]}


def test_seed_000_worked_example(api):
    body = api.post(URL, SEED_000, format="json").json()
    assert body["prompt"] == {"cost_per_request": 0.0002025, "monthly_cost": 101.25}
    assert body["fine_tune"] == {"cost_per_request": 0.000255, "monthly_cost": 127.5}
    assert body["monthly_savings"] == -26.25
    assert body["payback_months"] is None
    assert body["break_even_requests"] is None
    assert body["crossover_monthly_requests"] is None
    assert body["monthly_tokens"] == 375_000_000
    assert any("cannot pay back" in w for w in body["warnings"])


def test_seed_002_break_even_holds_to_six_decimals(api):
    # c_p = (500·30 + 200·60)/10⁶ = 0.027, c_f = (100·4 + 200·4)/10⁶ = 0.0012; 20 / 0.0258
    body = api.post(URL, {
        "monthly_requests": 100_000, "user_tokens": 100, "prompt_overhead_tokens": 400,
        "output_tokens": 200, "input_price_per_1m": 30, "output_price_per_1m": 60,
        "ft_input_price_per_1m": 4, "ft_output_price_per_1m": 4, "ft_overhead_tokens": 0,
        "ft_output_tokens": 200, "training_cost": 20,
    }, format="json").json()  # fmt: skip
    assert body["prompt"]["monthly_cost"] == 2700
    assert body["fine_tune"]["monthly_cost"] == 120
    assert body["break_even_requests"] == pytest.approx(775.193798, abs=1e-6)
    assert body["payback_months"] == pytest.approx(20 / 2580, abs=1e-6)


def test_sla_breach_with_quick_payback_recommends_fine_tuning(api):
    # Seed 001's JSON classifier: p99 1,200 ms > 600 ms SLA. Savings: 1M requests·(2,000·0.15
    # + 50·0.6 − (200·0.3 + 50·1.2))/10⁶ = $210/month; investment 10 h·$150 = $1,500 → 7.14
    # months: more than the 3-month horizon, so a hybrid; with a 12-month horizon, fine-tune.
    body = {
        "monthly_requests": 1_000_000, "user_tokens": 200, "prompt_overhead_tokens": 1_800,
        "output_tokens": 50, "input_price_per_1m": 0.15, "output_price_per_1m": 0.6,
        "dev_hours": 10, "latency_p99_ms": 1200,
    }  # fmt: skip
    result = api.post(URL, body, format="json").json()
    assert result["monthly_savings"] == pytest.approx(210, abs=1e-6)
    assert result["payback_months"] == pytest.approx(1500 / 210, abs=1e-6)
    assert result["recommendation"] == "hybrid"
    result = api.post(URL, {**body, "horizon_months": 12}, format="json").json()
    assert result["recommendation"] == "fine-tune"
    assert result["verdicts"]["sla_roi"]["reasons"][0].startswith("p99 latency")


def test_dynamic_knowledge_turns_prompt_into_rag(api):
    body = api.post(URL, {**SEED_000, "dynamic_knowledge": True}, format="json").json()
    assert body["verdicts"]["sla_roi"]["verdict"] == "hybrid"  # 375M tokens ≥ 5M cutoff
    assert body["recommendation"] == "hybrid"
    body = api.post(URL, {**SEED_000, "monthly_requests": 1000, "dynamic_knowledge": True},
                    format="json").json()  # fmt: skip
    assert body["verdicts"]["sla_roi"]["verdict"] == "prompt"
    assert body["recommendation"] == "rag"
    assert "fine-tuning does not inject knowledge" in body["recommendation_reasons"][-1]


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"monthly_request": 5}, "monthly_request", "unknown field"),
        ({"user_tokens": -1}, "user_tokens", "must be ≥ 0"),
        ({"output_tokens": "lots"}, "output_tokens", "must be a number"),
        ({"input_price_per_1m": [1]}, "input_price_per_1m", "must be a number"),
        ({"monthly_requests": True}, "monthly_requests", "must be a number"),
        ({"policy": "vibes"}, "policy", "must be one of: sla_roi, checklists, flowchart"),
        ({"persona_change_frequency": "daily"}, "persona_change_frequency", "must be one of"),
        ({"horizon_months": 0}, "horizon_months", "must be greater than 0"),
        ({"horizon_months": -3}, "horizon_months", "must be greater than 0"),
        ({"format_error_rate": 1.5}, "format_error_rate", "must be between 0 and 1"),
        ({"monthly_requests": 2.5}, "monthly_requests", "must be a whole number"),
        ({"public_facing": "maybe"}, "public_facing", "must be true or false"),
    ],
)
def test_bad_input_is_a_400_naming_the_field(api, change, field, message):
    errors = errors_of(api.post(URL, {**SEED_000, **change}, format="json"))
    assert field in errors, errors
    assert errors[field].startswith(message)


def test_every_error_is_reported_at_once(api):
    body = {**SEED_000, "user_tokens": -5, "policy": "x", "horizon_months": 0, "bogus": 1}
    del body["output_tokens"]
    errors = errors_of(api.post(URL, body, format="json"))
    assert set(errors) == {"user_tokens", "policy", "horizon_months", "bogus", "output_tokens"}
    assert errors["output_tokens"] == "this field is required"


def test_a_body_that_is_not_an_object_is_a_400(api):
    response = api.post(URL, [1, 2], format="json")
    assert errors_of(response) == {None: "expected an object"}
    response = api.post(URL, "{not json", content_type="application/json")
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]


def test_without_credentials_the_answer_is_a_json_401():
    response = APIClient().post(URL, SEED_000, format="json")
    assert response.status_code == 401
    assert response.json()["detail"] == "Authentication credentials were not provided."


def test_a_bad_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Bearer cx_" + "x" * 40)
    assert client.post(URL, SEED_000, format="json").status_code == 401


def test_a_session_user_may_call_it(client, user, team):
    client.force_login(user)
    response = client.post(URL, SEED_000, content_type="application/json")
    assert response.status_code == 200
    assert response.json()["prompt"]["monthly_cost"] == 101.25


def test_openapi_documents_the_endpoint_with_the_worked_example(admin_client):
    schema = admin_client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    operation = schema["paths"]["/api/v1/roi/evaluate"]["post"]
    examples = operation["requestBody"]["content"]["application/json"]["examples"]
    assert any(ex["value"]["prompt_overhead_tokens"] == 500 for ex in examples.values())
    response = operation["responses"]["200"]["content"]["application/json"]["examples"]
    assert any(ex["value"]["prompt"]["monthly_cost"] == 101.25 for ex in response.values())
