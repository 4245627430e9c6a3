"""Workloads through the services, the browser pages and the API."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from evaluations.models import ModelPrice
from teams.models import Role
from workloads.models import Workload
from workloads.selectors import workload_roi_data
from workloads.services.workloads import workload_clean, workload_create, workload_update

pytestmark = pytest.mark.django_db

PERSONA = {
    "slug": "persona",
    "name": "Persona assistant",
    "model": "gpt-4o-mini",
    "parameters": {
        "monthly_requests": 500_000,
        "user_tokens": 50,
        "prompt_overhead_tokens": 500,
        "output_tokens": 200,
    },
}


def make(team, **overrides):
    """Through the rules, then the service, as the pages do."""
    values = workload_clean(team=team, data={**PERSONA, **overrides})
    return workload_create(team=team, actor=None, **values)


def messages_of(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict


# --- services ---------------------------------------------------------------------------------


def test_parameters_are_stored_as_json_numbers(team):
    parameters = {"monthly_requests": "1200", "horizon_months": "4.5", "public_facing": "true",
                  "ft_output_tokens": None}  # fmt: skip
    workload = make(team, parameters=parameters)
    workload.refresh_from_db()
    assert workload.parameters == {
        "monthly_requests": 1200,
        "horizon_months": 4.5,
        "public_facing": True,
    }


def test_unknown_and_invalid_parameters_are_refused_with_their_names(team):
    with pytest.raises(ValidationError) as caught:
        make(team, parameters={
            "monthly_request": 5, "user_tokens": -1, "policy": "flowchart", "horizon_months": 0,
            "persona_change_frequency": "daily",
        })  # fmt: skip
    errors = messages_of(caught.value)
    assert errors == {
        "parameters.monthly_request": ["unknown field"],
        "parameters.user_tokens": ["must be ≥ 0"],
        "parameters.policy": ["The decision policy is the workload's `policy` field."],
        "parameters.horizon_months": ["must be greater than 0"],
        "parameters.persona_change_frequency": ["must be one of: weekly, monthly, rarely"],
    }
    assert not Workload.objects.exists()


def test_observed_figures_may_be_stored_as_planned_estimates(team):
    workload = make(team, parameters={"latency_p99_ms": 1200, "format_error_rate": 0.08})
    assert workload.parameters == {"latency_p99_ms": 1200, "format_error_rate": 0.08}
    with pytest.raises(ValidationError) as caught:
        make(team, slug="other", parameters={"format_error_rate": 2})
    assert messages_of(caught.value) == {
        "parameters.format_error_rate": ["must be between 0 and 1"]
    }


def test_slug_is_unique_per_team_and_reserved_words_are_refused(team, other_team):
    make(team)
    make(other_team)  # same slug in another team is fine
    with pytest.raises(ValidationError) as caught:
        make(team)
    assert "slug" in messages_of(caught.value)
    with pytest.raises(ValidationError) as caught:
        make(team, slug="new")
    assert messages_of(caught.value)["slug"] == ["'new' is reserved: choose another slug."]


def test_bad_choices_and_blank_model_are_refused(team):
    with pytest.raises(ValidationError) as caught:
        make(team, current_approach="vibes", policy="coin", model=" ")
    assert set(messages_of(caught.value)) == {"current_approach", "policy", "model"}


def test_update_replaces_parameters_and_keeps_the_slug(team):
    workload = make(team)
    workload_update(workload=workload, parameters={"monthly_requests": 9})
    workload.refresh_from_db()
    assert workload.parameters == {"monthly_requests": 9}
    with pytest.raises(ValidationError) as caught:
        workload_clean(team=team, data={"slug": "renamed"}, workload=workload)
    assert "slug" in messages_of(caught.value)
    with pytest.raises(TypeError):
        workload_update(workload=workload, slug="renamed")


def test_roi_data_takes_prices_from_the_table_unless_overridden(team):
    workload = make(team, ft_model="ft:gpt-4o-mini:acme:persona:1")
    data = workload_roi_data(workload)
    assert (data["input_price_per_1m"], data["output_price_per_1m"]) == (D("0.15"), D("0.60"))
    assert (data["ft_input_price_per_1m"], data["ft_output_price_per_1m"]) == (D("0.3"), D("1.2"))
    workload = make(team, slug="cheap", ft_model="ft:gpt-4o-mini:acme:x",
                    parameters={**PERSONA["parameters"], "input_price_per_1m": 0.1,
                                "ft_price_multiplier": 1.5})  # fmt: skip
    data = workload_roi_data(workload)
    assert data["input_price_per_1m"] == 0.1
    assert data["ft_input_price_per_1m"] == D("0.225")


# --- pages ------------------------------------------------------------------------------------


def test_workload_list_shows_planned_figures_in_constant_queries(
    admin_client, team, django_assert_num_queries
):
    url = reverse("workloads:workload_list", args=[team.slug])
    admin_client.get(url)
    make(team)
    # session, user, membership, the count of workloads, a page of them, latest assessments,
    # live flags, prices (for the workloads not assessed yet), the team switcher
    with django_assert_num_queries(9):
        admin_client.get(url)
    for n in range(5):
        make(team, slug=f"w{n}", name=f"Workload {n}")
    with django_assert_num_queries(9):
        response = admin_client.get(url)
    text = response.content.decode()
    assert "$101.25" in text and "$127.50" in text  # seed 000 at table prices
    assert "planned figures · not assessed yet" in text
    assert "Workload 4" in text


def test_workload_detail_shows_figures_and_the_missing_inputs(admin_client, team):
    make(team)
    figures = reverse("workloads:workload_figures", args=[team.slug, "persona"])
    text = admin_client.get(figures).content.decode()
    assert "$101.25" in text and 'data-chart="crossover-chart-data"' in text
    assert "Planned figures" in text  # not assessed yet
    make(team, slug="sparse", parameters={"monthly_requests": 10})
    response = admin_client.get(reverse("workloads:workload_detail", args=[team.slug, "sparse"]))
    text = response.content.decode()
    assert "The evidence cannot recommend anything yet: inputs are missing." in text
    assert "User tokens per request: this field is required" in text


def test_workload_detail_needs_a_priced_model(admin_client, team):
    ModelPrice.objects.for_team(team).delete()
    make(team)
    response = admin_client.get(reverse("workloads:workload_detail", args=[team.slug, "persona"]))
    assert "Input price per 1M tokens: this field is required" in response.content.decode()


def test_every_section_of_the_workload_page_has_a_title_and_human_labels(admin_client, team):
    make(team, parameters={**PERSONA["parameters"], "public_facing": True,
                           "format_error_threshold": 0.025, "horizon_months": 4.5})  # fmt: skip
    titles = {}
    for name in ("workload_detail", "workload_figures", "workload_usage", "workload_setup"):
        response = admin_client.get(reverse(f"workloads:{name}", args=[team.slug, "persona"]))
        assert response.status_code == 200
        text = response.content.decode()
        titles[name] = text.split("<title>")[1].split("</title>")[0]
        assert 'aria-current="page"' in text  # the current tab
        for raw in ("sla_roi", "True", "False", "0.025", "(sla_roi)"):
            assert f">{raw}<" not in text and f" {raw} " not in text, (name, raw)
    assert len(set(titles.values())) == 4
    setup = admin_client.get(reverse("workloads:workload_setup", args=[team.slug, "persona"]))
    text = setup.content.decode()
    assert '<th scope="row">Public-facing</th><td class="num">yes</td>' in text
    assert '<td class="num">2.5%</td>' in text and '<td class="num">4.5</td>' in text
    assert '<td class="num">500,000</td>' in text


def form_body(**overrides):
    body = {"name": "Classifier", "slug": "classifier", "description": "", "model": "gpt-4o-mini",
            "ft_model": "", "current_approach": "prompt", "policy": "sla_roi"}  # fmt: skip
    body.update(overrides)
    return body


def test_creating_a_workload_in_the_browser(admin_client, team):
    url = reverse("workloads:workload_create", args=[team.slug])
    response = admin_client.post(url, form_body(monthly_requests="250000", public_facing="on"))
    assert response.status_code == 302
    workload = Workload.objects.for_team(team).get(slug="classifier")
    assert workload.parameters == {"monthly_requests": 250000, "public_facing": True}


def test_bad_parameter_in_the_form_shows_next_to_its_field_and_keeps_the_input(admin_client, team):
    url = reverse("workloads:workload_create", args=[team.slug])
    response = admin_client.post(url, form_body(monthly_requests="lots", accuracy_target="1.5"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["monthly_requests"] == ["must be a number"]
    assert form.errors["accuracy_target"] == ["must be between 0 and 1"]
    text = response.content.decode()
    assert 'value="lots"' in text and 'value="1.5"' in text
    assert not Workload.objects.exists()


def test_editing_a_workload_keeps_its_slug(admin_client, team):
    make(team)
    url = reverse("workloads:workload_edit", args=[team.slug, "persona"])
    response = admin_client.get(url)
    assert 'value="500000"' in response.content.decode()
    response = admin_client.post(url, form_body(slug="hacked", name="Renamed", user_tokens="60"))
    assert response.status_code == 302
    workload = Workload.objects.get(team=team)
    assert (workload.slug, workload.name, workload.parameters) == ("persona", "Renamed",
                                                                   {"user_tokens": 60})  # fmt: skip


def test_viewers_see_workloads_but_cannot_create_them(client, team, member_factory):
    make(team)
    client.force_login(member_factory(team, Role.VIEWER))
    assert client.get(reverse("workloads:workload_list", args=[team.slug])).status_code == 200
    url = reverse("workloads:workload_create", args=[team.slug])
    assert client.post(url, form_body()).status_code == 403


def test_other_teams_workload_page_is_not_found(admin_client, team, other_team):
    make(other_team)
    url = reverse("workloads:workload_detail", args=[team.slug, "persona"])
    assert admin_client.get(url).status_code == 404
    url = reverse("workloads:workload_detail", args=[other_team.slug, "persona"])
    assert admin_client.get(url).status_code == 404


# --- API --------------------------------------------------------------------------------------


@pytest.fixture
def api(team, api_client_factory):
    return api_client_factory(team, "decisions:read", "decisions:write")


def test_api_create_list_get_and_patch(api, team):
    created = api.post("/api/v1/workloads", PERSONA, format="json")
    assert created.status_code == 201, created.json()
    assert created.json()["parameters"]["monthly_requests"] == 500_000
    listed = api.get("/api/v1/workloads").json()
    assert [w["slug"] for w in listed["results"]] == ["persona"]
    patched = api.patch("/api/v1/workloads/persona", {
        "current_approach": "fine-tune",
        "parameters": {"monthly_requests": 800_000, "user_tokens": None, "dev_hours": 10},
    }, format="json")  # fmt: skip
    assert patched.status_code == 200, patched.json()
    assert patched.json()["current_approach"] == "fine-tune"
    assert patched.json()["parameters"] == {
        "monthly_requests": 800_000,
        "prompt_overhead_tokens": 500,
        "output_tokens": 200,
        "dev_hours": 10,
    }
    assert api.get("/api/v1/workloads/persona").json()["parameters"]["dev_hours"] == 10


def test_api_validation_errors_name_each_field(api):
    body = {**PERSONA, "policy": "coin", "colour": "blue",
            "parameters": {"user_tokens": "x", "monthly_requests": -3}}  # fmt: skip
    response = api.post("/api/v1/workloads", body, format="json")
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    # Every error at once: unknown keys, choices and each parameter under the engine's rules.
    assert fields == {"colour", "policy", "parameters.user_tokens", "parameters.monthly_requests"}
    del body["colour"], body["policy"]
    response = api.post("/api/v1/workloads", body, format="json")
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"parameters.user_tokens": "must be a number",
                      "parameters.monthly_requests": "must be ≥ 0"}  # fmt: skip
    assert api.post("/api/v1/workloads", [1], format="json").status_code == 400


def test_api_refuses_a_slug_change_and_a_duplicate_slug(api):
    api.post("/api/v1/workloads", PERSONA, format="json")
    response = api.patch("/api/v1/workloads/persona", {"slug": "x"}, format="json")
    assert response.json()["errors"][0]["field"] == "slug"
    response = api.post("/api/v1/workloads", PERSONA, format="json")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "slug"


def test_api_other_teams_slug_is_404(api, other_team):
    make(other_team)
    assert api.get("/api/v1/workloads/persona").status_code == 404
    assert api.patch("/api/v1/workloads/persona", {"name": "x"}, format="json").status_code == 404
    assert api.get("/api/v1/workloads").json()["results"] == []


def test_api_scopes(team, api_client_factory):
    make(team)
    reader = api_client_factory(team, "decisions:read")
    assert reader.get("/api/v1/workloads/persona").status_code == 200
    assert (
        reader.patch("/api/v1/workloads/persona", {"name": "x"}, format="json").status_code == 403
    )
    other = api_client_factory(team, "usage:write")
    assert other.get("/api/v1/workloads").status_code == 403


def test_api_without_token_is_401():
    from rest_framework.test import APIClient

    response = APIClient().get("/api/v1/workloads")
    assert response.status_code == 401
    assert response.json()["detail"]
