from __future__ import annotations

from decimal import Decimal

import pytest
from django.urls import reverse

from evaluations.models import ModelPrice
from evaluations.pricing import price_for
from teams.models import Role

pytestmark = pytest.mark.django_db


def add(team, model, i, o, t=None):
    return ModelPrice.objects.create(
        team=team,
        model=model,
        input_per_1m=Decimal(i),
        output_per_1m=Decimal(o),
        training_per_1m=None if t is None else Decimal(t),
    )


# --- the one lookup ---------------------------------------------------------------------------


def test_exact_name_wins_over_a_matching_pattern(team):
    add(team, "gpt-4.1*", "9", "9")
    price = price_for(team, "gpt-4.1")  # seeded exact row: 2.00 / 8.00
    assert (price.input_per_1m, price.output_per_1m, price.source) == (
        Decimal("2.00"),
        Decimal("8.00"),
        "gpt-4.1",
    )


def test_longest_matching_pattern_wins(team):
    add(team, "acme-*", "1", "2")
    add(team, "acme-large-*", "5", "6")
    assert price_for(team, "acme-large-2025").source == "acme-large-*"
    assert price_for(team, "acme-small").source == "acme-*"


def test_fine_tuned_name_falls_back_to_base_price_times_multiplier(team):
    price = price_for(team, "ft:gpt-4o-mini:acme:support:abc123", ft_multiplier=Decimal(2))
    assert price.input_per_1m == Decimal("0.30")
    assert price.output_per_1m == Decimal("1.20")
    assert price.training_per_1m == Decimal("3.00")
    assert price.source == "ft: base gpt-4o-mini × 2"


def test_fine_tune_multiplier_is_applied_as_given(team):
    price = price_for(team, "ft:gpt-4o-mini:acme:x", ft_multiplier=Decimal("1.5"))
    assert price.input_per_1m == Decimal("0.225")


def test_explicit_fine_tuned_price_wins_over_the_fallback(team):
    add(team, "ft:gpt-4o-mini:acme:*", "0.20", "0.70")
    price = price_for(team, "ft:gpt-4o-mini:acme:support:abc123")
    assert (price.input_per_1m, price.output_per_1m) == (Decimal("0.20"), Decimal("0.70"))
    assert price.source == "ft:gpt-4o-mini:acme:*"


def test_unknown_model_has_no_price(team):
    assert price_for(team, "llama-9000") is None
    assert price_for(team, "ft:llama-9000:x") is None


def test_prices_are_per_team(team, other_team):
    add(other_team, "globex-model", "1", "1")
    assert price_for(team, "globex-model") is None


# --- the price page ---------------------------------------------------------------------------


def test_new_team_gets_the_default_prices(team):
    assert ModelPrice.objects.for_team(team).filter(model="gpt-4o-mini").exists()


def test_price_list_shows_every_row_in_constant_queries(
    admin_client, team, django_assert_num_queries
):
    for n in range(5):
        add(team, f"extra-{n}", "1", "2")
    url = reverse("evaluations:price_list", args=[team.slug])
    admin_client.get(url)  # warm the session
    with django_assert_num_queries(5):
        response = admin_client.get(url)
    assert response.status_code == 200
    assert b"extra-4" in response.content and b"gpt-4o-mini" in response.content


def test_price_check_names_the_row_that_prices_a_model(admin_client, team):
    url = reverse("evaluations:price_list", args=[team.slug])
    response = admin_client.get(url, {"model": "ft:gpt-4o-mini:acme:x"}, HTTP_HX_REQUEST="true")
    text = response.content.decode()
    assert "fine-tune rule (ft: base gpt-4o-mini × 2)" in text
    assert "<table" not in text  # only the partial
    assert response["Vary"].count("HX-Request") == 1
    response = admin_client.get(url, {"model": "nobody-knows"}, HTTP_HX_REQUEST="true")
    assert "has no price" in response.content.decode()


def post_price(client, team, **data):
    body = {"model": "", "input_per_1m": "", "output_per_1m": "", "training_per_1m": "",
            "notes": ""}  # fmt: skip
    body.update(data)
    return client.post(reverse("evaluations:price_create", args=[team.slug]), body)


def test_adding_a_price_creates_the_row(admin_client, team):
    response = post_price(admin_client, team, model="claude-*", input_per_1m="3",
                          output_per_1m="15")  # fmt: skip
    assert response.status_code == 302
    row = ModelPrice.objects.for_team(team).get(model="claude-*")
    assert (row.input_per_1m, row.output_per_1m, row.training_per_1m) == (3, 15, None)


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"input_per_1m": "-1"}, "input_per_1m", "Prices cannot be negative."),
        ({"output_per_1m": "abc"}, "output_per_1m", "Enter a number."),
        ({"model": "gpt-[4]"}, "model", "with * as the one wildcard"),
        ({"model": "gpt 4"}, "model", "with * as the one wildcard"),
        ({"model": "gpt-4o-mini"}, "model", "gpt-4o-mini already has a price in this team."),
    ],
)
def test_bad_price_shows_the_error_next_to_the_field_and_keeps_the_input(
    admin_client, team, data, field, message
):
    body = {"model": "new-model", "input_per_1m": "1", "output_per_1m": "2", **data}
    before = ModelPrice.objects.count()
    response = post_price(admin_client, team, **body)
    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert f'value="{body[field]}"' in response.content.decode()
    assert ModelPrice.objects.count() == before


def test_editing_a_price_to_another_rows_name_is_refused(admin_client, team):
    row = add(team, "mine", "1", "1")
    url = reverse("evaluations:price_edit", args=[team.slug, row.pk])
    response = admin_client.post(url, {"model": "gpt-4o", "input_per_1m": "1",
                                       "output_per_1m": "1"})  # fmt: skip
    assert "gpt-4o already has a price" in response.content.decode()
    response = admin_client.post(url, {"model": "mine", "input_per_1m": "1.25",
                                       "output_per_1m": "1"})  # fmt: skip
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.input_per_1m == Decimal("1.25")


def test_deleting_a_price_removes_it(admin_client, team):
    row = add(team, "gone", "1", "1")
    response = admin_client.post(reverse("evaluations:price_delete", args=[team.slug, row.pk]))
    assert response.status_code == 302
    assert not ModelPrice.objects.filter(pk=row.pk).exists()


def test_viewer_cannot_change_prices(client, team, member_factory):
    client.force_login(member_factory(team, Role.VIEWER))
    response = post_price(client, team, model="x", input_per_1m="1", output_per_1m="1")
    assert response.status_code == 403


def test_other_teams_price_is_not_found(admin_client, team, other_team):
    row = add(other_team, "theirs", "1", "1")
    response = admin_client.get(reverse("evaluations:price_edit", args=[team.slug, row.pk]))
    assert response.status_code == 404


# --- the price API ----------------------------------------------------------------------------


def test_price_api_crud(team, api_client_factory):
    api = api_client_factory(team, "evaluations:read", "evaluations:write")
    created = api.post("/api/v1/prices", {"model": "mistral-*", "input_per_1m": 0.25,
                                          "output_per_1m": 0.75}, format="json")  # fmt: skip
    assert created.status_code == 201, created.json()
    pk = created.json()["id"]
    assert created.json()["input_per_1m"] == 0.25
    patched = api.patch(f"/api/v1/prices/{pk}", {"output_per_1m": 1}, format="json")
    assert patched.json()["output_per_1m"] == 1.0
    resolved = api.get("/api/v1/prices/resolve", {"model": "mistral-large"})
    assert resolved.json() == {"model": "mistral-large", "input_per_1m": 0.25,
                               "output_per_1m": 1.0, "training_per_1m": None,
                               "source": "mistral-*"}  # fmt: skip
    assert api.delete(f"/api/v1/prices/{pk}").status_code == 204
    assert api.get("/api/v1/prices/resolve", {"model": "mistral-large"}).status_code == 400


def test_price_api_validation_errors_name_the_fields(team, api_client_factory):
    api = api_client_factory(team, "evaluations:write")
    response = api.post("/api/v1/prices", {"model": "gpt-4o", "input_per_1m": -1,
                                           "output_per_1m": "x"}, format="json")  # fmt: skip
    assert response.status_code == 400
    fields = {e["field"] for e in response.json()["errors"]}
    assert fields == {"output_per_1m", "input_per_1m", "model"}  # every error at once
    body = {"model": "gpt-4o", "input_per_1m": -1, "output_per_1m": 1, "colour": "x"}
    response = api.post("/api/v1/prices", body, format="json")
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"colour": "Unknown field.", "input_per_1m": "Prices cannot be negative.",
                      "model": "gpt-4o already has a price in this team."}  # fmt: skip
    response = api.post("/api/v1/prices", {"model": "gpt-4o", "input_per_1m": 1,
                                           "output_per_1m": 1}, format="json")  # fmt: skip
    errors = {e["field"]: e["message"] for e in response.json()["errors"]}
    assert errors == {"model": "gpt-4o already has a price in this team."}


def test_price_api_needs_the_evaluations_scope(team, api_client_factory):
    api = api_client_factory(team, "decisions:read")
    assert api.get("/api/v1/prices").status_code == 403
