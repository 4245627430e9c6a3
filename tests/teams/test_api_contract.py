"""The API's shared input rules (teams.api.serializers, teams.api.pagination): JSON types as the
schema publishes them, unknown keys refused and declared so, limit/offset range-checked."""

from __future__ import annotations

from decimal import Decimal

import pytest
from rest_framework import serializers

from teams.api import serializers as strict
from teams.api.pagination import MAX_LIMIT, MAX_OFFSET


class Sample(strict.ClosedSerializer):
    name = strict.CharField(max_length=10)
    count = strict.IntegerField(min_value=0, required=False)
    share = strict.FloatField(required=False)
    price = strict.DecimalField(max_digits=8, decimal_places=2, required=False)
    on = strict.BooleanField(required=False)
    kind = strict.ChoiceField(["a", "b"], required=False)


def errors(data) -> dict[str, list[str]]:
    serializer = Sample(data=data)
    assert not serializer.is_valid()
    return {key: [str(m) for m in messages] for key, messages in serializer.errors.items()}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"name": 12}, "name", "Must be a string."),
        ({"name": "x", "count": "12"}, "count", "Must be an integer."),
        ({"name": "x", "count": True}, "count", "Must be an integer."),
        ({"name": "x", "count": 1.5}, "count", "Must be an integer."),
        ({"name": "x", "share": "0.5"}, "share", "Must be a number."),
        ({"name": "x", "price": "1.50"}, "price", "Must be a number."),
        ({"name": "x", "price": 1e6}, "price", "Must be less than 1,000,000 in absolute value"),
        ({"name": "x", "on": "true"}, "on", "Must be true or false."),
        ({"name": "x", "on": 1}, "on", "Must be true or false."),
        ({"name": "x", "kind": 1}, "kind", "Must be a string."),
    ],
)
def test_each_field_takes_only_the_json_type_it_publishes(data, field, message):
    assert errors(data)[field][0].startswith(message)


def test_valid_values_come_out_typed_and_decimals_rounded_to_the_columns_places():
    serializer = Sample(data={"name": "x", "count": 2.0, "share": 1, "price": 0.125, "on": False})
    assert serializer.is_valid(), serializer.errors
    assert serializer.validated_data == {
        "name": "x", "count": 2, "share": 1.0, "price": Decimal("0.12"), "on": False,
    }  # fmt: skip
    largest = Sample(data={"name": "x", "price": 999999.994})
    assert largest.is_valid() and largest.validated_data["price"] == Decimal("999999.99")
    # Rounded first, then judged: 999999.995 is 1,000,000.00, one digit too many.
    assert errors({"name": "x", "price": 999999.995})["price"][0].startswith("Must be less than")


def test_unknown_keys_are_refused_with_every_other_error_at_once():
    assert errors({"name": 1, "colour": "red", "count": -1}) == {
        "colour": ["Unknown field."],
        "name": ["Must be a string."],
        "count": ["Ensure this value is greater than or equal to 0."],
    }


def test_a_read_only_field_sent_in_is_an_unknown_field():
    class WithId(strict.ClosedSerializer):
        id = serializers.IntegerField(read_only=True)
        name = strict.CharField()

    serializer = WithId(data={"id": 3, "name": "x"})
    assert not serializer.is_valid()
    assert serializer.errors == {"id": ["Unknown field."]}


@pytest.fixture(scope="module")
def published(django_db_blocker):
    from django.test import Client

    with django_db_blocker.unblock():
        return Client().get("/api/schema/", HTTP_ACCEPT="application/json").json()


def test_closed_request_bodies_say_they_take_no_other_keys(published):
    components = published["components"]["schemas"]
    closed = [
        "WorkloadRequest",
        "PatchedWorkloadDetailRequest",
        "ModelPriceRequest",
        "ProviderRequest",
        "DatasetWriteRequest",
        "MessageRequest",
        "RoiInputsRequest",
    ]
    for name in closed:
        assert components[name]["additionalProperties"] is False, name
    # Responses may grow keys; only request bodies are closed.
    assert "additionalProperties" not in components["Workload"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "name"),
    [("limit=0", "limit"), ("limit=abc", "limit"), ("limit=-1", "limit"), ("limit=1.5", "limit"),
     (f"limit={MAX_LIMIT + 1}", "limit"), ("offset=-1", "offset"), ("offset=", "offset"),
     (f"offset={MAX_OFFSET + 1}", "offset"), (f"offset={10**40}", "offset")],
)  # fmt: skip
def test_limit_and_offset_out_of_range_are_a_400_naming_them(team, api_client_factory, query, name):
    api = api_client_factory(team, "evaluations:read")
    response = api.get(f"/api/v1/datasets?{query}")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == name


@pytest.mark.django_db
def test_limit_and_offset_at_their_bounds_are_served(team, api_client_factory, published):
    api = api_client_factory(team, "evaluations:read")
    page = api.get(f"/api/v1/datasets?limit={MAX_LIMIT}&offset={MAX_OFFSET}").json()
    assert (page["count"], page["next"], page["results"]) == (0, None, [])
    parameters = {
        p["name"]: p["schema"] for p in published["paths"]["/api/v1/datasets"]["get"]["parameters"]
    }
    assert parameters["limit"] == {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT,
                                   "default": 100}  # fmt: skip
    assert parameters["offset"]["maximum"] == MAX_OFFSET
