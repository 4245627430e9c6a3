"""Worksheets: the live form (full page and htmx), saving versions, reading them back."""

from __future__ import annotations

import json
import threading

import pytest
from django.db import connection
from django.urls import reverse

from teams.models import Role
from workloads import roi
from workloads.models import Workload, Worksheet
from workloads.services import assessments
from workloads.services.workloads import (
    workload_apply_worksheet,
    workload_clean,
    workload_create,
    workload_update,
)
from workloads.services.worksheets import worksheet_create

pytestmark = pytest.mark.django_db

SEED_000 = {
    "monthly_requests": "500000",
    "user_tokens": "50",
    "prompt_overhead_tokens": "500",
    "output_tokens": "200",
    "input_price_per_1m": "0.15",
    "output_price_per_1m": "0.60",
}


@pytest.fixture
def workload(team):
    # Form strings: the rules turn them into JSON numbers.
    parameters = {k: v for k, v in SEED_000.items() if "price" not in k}
    values = workload_clean(team=team, data={
        "slug": "persona", "name": "Persona assistant", "model": "gpt-4o-mini",
        "policy": "checklists", "parameters": parameters,
    })  # fmt: skip
    return workload_create(team=team, **values)


def new_url(team):
    return reverse("workloads:worksheet_new", args=[team.slug])


def post(client, team, htmx=False, **data):
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    return client.post(new_url(team), {**SEED_000, **data}, **headers)


# --- recalculating ----------------------------------------------------------------------------


def test_full_page_recalculation_shows_the_seed_000_figures(admin_client, team):
    response = post(admin_client, team, action="recalculate")
    text = response.content.decode()
    assert response.status_code == 200
    assert "<html" in text
    assert 'data-testid="prompt-monthly">$101.25<' in text
    assert 'data-testid="ft-monthly">$127.50<' in text
    assert 'data-testid="monthly-savings">−$26.25<' in text
    assert 'data-testid="payback">never<' in text


def test_htmx_recalculation_returns_only_the_results_and_field_updates(admin_client, team):
    response = post(admin_client, team, htmx=True)
    text = response.content.decode()
    assert "<html" not in text and "<form" not in text
    assert 'data-testid="prompt-monthly">$101.25<' in text
    assert (
        'id="err-user_tokens" class="field-errors" aria-live="polite" hx-swap-oob="true">' in text
    )
    assert "HX-Request" in response["Vary"]


def test_chart_data_is_the_engines_cost_curve_with_the_current_volume_marked(admin_client, team):
    response = post(admin_client, team, htmx=True)
    inputs = roi.parse_inputs(SEED_000)
    curve = roi.cost_curve(inputs, roi.chart_volumes(inputs))
    text = response.content.decode()
    opening = '<script id="crossover-chart-data" type="application/json">'
    data = text[text.index(opening) + len(opening) : text.index("</script>", text.index(opening))]
    datasets = json.loads(data)["data"]["datasets"]
    assert [p["y"] for p in datasets[0]["data"]] == [p["prompt"] for p in curve]
    assert [p["y"] for p in datasets[1]["data"]] == [p["fine_tune"] for p in curve]
    assert {p["x"] for p in datasets[2]["data"]} == {500_000}
    assert 'data-chart="crossover-chart-data"' in text
    assert "<" not in data  # Django's json_script: safe inside a <script> element


def test_bad_input_shows_errors_next_to_fields_and_keeps_the_typing(admin_client, team):
    response = post(admin_client, team, action="recalculate", user_tokens="5O",
                    horizon_months="0", policy="coin")  # fmt: skip
    form = response.context["form"]
    assert form.errors["user_tokens"] == ["must be a number"]
    assert form.errors["horizon_months"] == ["must be greater than 0"]
    assert form.errors["policy"] == ["must be one of: sla_roi, checklists, flowchart"]
    text = response.content.decode()
    assert 'value="5O"' in text and 'value="0"' in text
    assert 'id="id_user_tokens_error"' in text and 'aria-invalid="true"' in text
    assert "Not recalculated." in text and "Fix the outlined fields:" in text
    assert '<a href="#id_user_tokens">User tokens per request</a>: must be a number' in text
    assert 'data-testid="recommendation"' not in text  # a full page has no earlier results


def test_htmx_recalculation_with_invalid_inputs_keeps_the_last_results(admin_client, team):
    response = post(admin_client, team, htmx=True, user_tokens="fifty")
    text = response.content.decode()
    # Nothing replaces the results panel: the last valid figures stay where they are …
    assert response["HX-Reswap"] == "none"
    assert 'data-testid="prompt-monthly"' not in text
    # … while the error reaches its field and the panel says what to fix, out of band.
    start = text.index('id="err-user_tokens"')
    assert "must be a number" in text[start : text.index("</div>", start)]
    status = text[text.index('<div id="results-status"') :]
    assert 'hx-swap-oob="true"' in status.split(">")[0] and "stale" in status.split(">")[0]
    assert "the figures shown are from the last valid inputs" in status
    assert "HX-Request" in response["Vary"]
    valid = post(admin_client, team, htmx=True)
    assert "HX-Reswap" not in valid and 'data-testid="prompt-monthly">$101.25<' in (
        valid.content.decode()
    )


def test_htmx_errors_travel_out_of_band_to_their_fields(admin_client, team):
    response = post(admin_client, team, htmx=True, output_tokens="-1")
    text = response.content.decode()
    start = text.index('id="err-output_tokens"')
    assert "must be ≥ 0" in text[start : text.index("</div>", start)]


def test_a_changed_model_fills_prices_from_the_price_table(admin_client, team):
    response = post(admin_client, team, htmx=True, model="gpt-4o", applied_model="gpt-4o-mini",
                    ft_model="ft:gpt-4o:acme:x", ft_price_multiplier="3")  # fmt: skip
    form = response.context["form"]
    assert form.data["input_price_per_1m"] == "2.5"
    assert form.data["output_price_per_1m"] == "10"
    assert form.data["training_price_per_1m"] == "25"
    assert form.data["ft_input_price_per_1m"] == "7.5"  # base × the worksheet's multiplier
    text = response.content.decode()
    assert 'id="field-input_price_per_1m" hx-swap-oob="true"' in text
    assert "come from the price table (ft: base gpt-4o × 3)" in text


def test_a_typed_price_is_kept_while_the_model_stays(admin_client, team):
    response = post(admin_client, team, htmx=True, model="gpt-4o", applied_model="gpt-4o",
                    input_price_per_1m="1")  # fmt: skip
    assert response.context["form"].data["input_price_per_1m"] == "1"
    assert 'id="field-input_price_per_1m" hx-swap-oob' not in response.content.decode()


def test_an_unpriced_model_leaves_prices_alone_and_says_so(admin_client, team):
    response = post(admin_client, team, htmx=True, model="mystery-7b", applied_model="")
    assert response.context["form"].data["input_price_per_1m"] == "0.15"
    assert "mystery-7b has no row in the price table" in response.content.decode()


# --- prefilling -------------------------------------------------------------------------------


def test_prefill_from_a_workload_uses_its_parameters_policy_and_prices(
    admin_client, team, workload
):
    response = admin_client.get(new_url(team), {"workload": "persona"})
    form = response.context["form"]
    assert form.initial["monthly_requests"] == "500000"
    assert form.initial["input_price_per_1m"] == "0.15"
    assert form.initial["policy"] == "checklists"
    assert form.initial["workload"] == "persona"
    assert response.context["out"]["recommendation"] == "fine-tune"  # 1 ft check vs 0


def test_prefill_from_another_teams_workload_is_not_found(admin_client, team, other_team):
    workload_create(team=other_team, slug="theirs", name="T", model="m")
    assert admin_client.get(new_url(team), {"workload": "theirs"}).status_code == 404


# --- saving -----------------------------------------------------------------------------------


def test_saving_creates_version_1_then_2_with_the_assessed_outputs(
    admin_client, team, workload, user
):
    for expected in (1, 2):
        response = post(admin_client, team, action="save", workload="persona",
                        justification="Cheaper to prompt at this volume.", title="Q3")  # fmt: skip
        assert response.status_code == 302
        assert response["Location"] == reverse(
            "workloads:worksheet_detail", args=[team.slug, "persona", expected]
        )
    latest = Worksheet.objects.get(workload=workload, version=2)
    assert latest.outputs["prompt"]["monthly_cost"] == 101.25
    assert latest.outputs["fine_tune"]["monthly_cost"] == 127.5
    assert latest.inputs["monthly_requests"] == 500_000
    assert latest.recommendation == "hybrid"  # sla_roi (form default): 375M tokens ≥ cutoff
    assert latest.author == user


def test_saving_needs_a_workload_and_a_justification(admin_client, team, workload):
    response = post(admin_client, team, action="save", workload="", justification="  ")
    form = response.context["form"]
    assert form.errors["workload"] == ["Choose the workload this worksheet is about."]
    assert form.errors["justification"][0].startswith("Explain the choice")
    assert not Worksheet.objects.exists()


def test_invalid_inputs_are_never_saved(admin_client, team, workload):
    response = post(admin_client, team, action="save", workload="persona",
                    justification="x", user_tokens="-2")  # fmt: skip
    assert response.status_code == 200
    assert not Worksheet.objects.exists()


def test_htmx_requests_never_save(admin_client, team, workload):
    post(admin_client, team, htmx=True, action="save", workload="persona", justification="x")
    assert not Worksheet.objects.exists()


def test_viewers_cannot_save(client, team, workload, member_factory):
    client.force_login(member_factory(team, Role.VIEWER))
    response = post(client, team, action="save", workload="persona", justification="x")
    assert response.status_code == 403


def test_saved_versions_are_immutable(team, workload):
    worksheet = worksheet_create(team=team, workload=workload, justification="why",
                                 inputs=roi.parse_inputs(SEED_000))  # fmt: skip
    worksheet.justification = "rewritten"
    with pytest.raises(ValueError, match="immutable"):
        worksheet.save()
    worksheet.refresh_from_db()
    assert worksheet.justification == "why"


def test_worksheet_for_another_teams_workload_is_refused(team, other_team):
    theirs = workload_create(team=other_team, slug="t", name="T", model="m")
    from django.core.exceptions import ValidationError

    with pytest.raises(ValidationError):
        worksheet_create(team=team, workload=theirs, justification="x",
                         inputs=roi.parse_inputs(SEED_000))  # fmt: skip


@pytest.mark.django_db(transaction=True)
def test_concurrent_saves_get_distinct_consecutive_versions(team, workload):
    inputs = roi.parse_inputs(SEED_000)
    barrier = threading.Barrier(4)
    errors = []

    def save():
        try:
            barrier.wait()
            worksheet_create(team=team, workload=workload, inputs=inputs, justification="race")
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=save) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    versions = sorted(Worksheet.objects.filter(workload=workload).values_list("version", flat=True))
    assert versions == [1, 2, 3, 4]


# --- reading back -----------------------------------------------------------------------------


def test_version_page_shows_the_stored_figures_read_only(admin_client, team, workload):
    worksheet_create(team=team, workload=workload, justification="Prompting is cheaper.",
                     inputs=roi.parse_inputs(SEED_000))  # fmt: skip
    url = reverse("workloads:worksheet_detail", args=[team.slug, "persona", 1])
    text = admin_client.get(url).content.decode()
    assert "Prompting is cheaper." in text
    assert 'data-testid="prompt-monthly">$101.25<' in text
    assert 'data-chart="crossover-chart-data"' in text
    assert '<form method="post" novalidate class="worksheet-form"' not in text
    assert (
        f"{reverse('workloads:worksheet_new', args=[team.slug])}?workload=persona&amp;version=1"
        in text
    )


def test_new_worksheet_from_a_version_is_prefilled_with_its_inputs(admin_client, team, workload):
    worksheet_create(team=team, workload=workload, justification="Because.",
                     inputs=roi.parse_inputs({**SEED_000, "dev_hours": "12.5"}))  # fmt: skip
    response = admin_client.get(new_url(team), {"workload": "persona", "version": "1"})
    form = response.context["form"]
    assert form.initial["dev_hours"] == "12.5"
    assert form.initial["justification"] == "Because."
    assert form.initial["applied_model"] == "gpt-4o-mini"  # prices are not re-filled
    assert (
        admin_client.get(new_url(team), {"workload": "persona", "version": "9"}).status_code == 404
    )
    assert (
        admin_client.get(new_url(team), {"workload": "persona", "version": "x"}).status_code == 404
    )


def test_other_teams_version_is_not_found(admin_client, team, other_team):
    theirs = workload_create(team=other_team, slug="persona", name="T", model="m")
    worksheet_create(team=other_team, workload=theirs, justification="x",
                     inputs=roi.parse_inputs(SEED_000))  # fmt: skip
    url = reverse("workloads:worksheet_detail", args=[team.slug, "persona", 1])
    assert admin_client.get(url).status_code == 404


def test_worksheet_list_in_constant_queries(
    admin_client, team, workload, django_assert_num_queries
):
    url = reverse("workloads:worksheet_list", args=[team.slug])
    admin_client.get(url)
    inputs = roi.parse_inputs(SEED_000)
    worksheet_create(team=team, workload=workload, inputs=inputs, justification="a")
    # session, user, membership, count, page of worksheets (+ workload + author), team switcher
    with django_assert_num_queries(6):
        admin_client.get(url)
    for _ in range(5):
        worksheet_create(team=team, workload=workload, inputs=inputs, justification="b")
    with django_assert_num_queries(6):
        response = admin_client.get(url)
    text = response.content.decode()
    assert "v6" in text and "v1" in text and "Persona assistant" in text


# --- applying a version to its workload -------------------------------------------------------


def apply_url(team, version=1):
    return reverse("workloads:worksheet_apply", args=[team.slug, "persona", version])


def test_applying_a_version_makes_its_inputs_the_workloads_parameters(
    admin_client, team, user, workload, django_capture_on_commit_callbacks
):
    typed = {**SEED_000, "policy": "sla_roi", "dev_hours": "12", "public_facing": "on",
             "output_price_per_1m": "0.5", "hourly_rate": "150", "epochs": "3"}  # fmt: skip
    worksheet = worksheet_create(team=team, workload=workload, justification="Because.",
                                 inputs=roi.parse_inputs(typed))  # fmt: skip
    Workload.objects.filter(pk=workload.pk).update(assessment_requested_at=None)
    with django_capture_on_commit_callbacks() as callbacks:
        response = admin_client.post(apply_url(team))
    assert response.status_code == 302
    assert response.url == reverse("workloads:workload_setup", args=[team.slug, "persona"])
    workload.refresh_from_db()
    # Prices the table gives (input 0.15) and defaults (hourly rate, epochs) are left to their
    # sources; a typed price that differs from the table (output 0.5) is kept.
    assert workload.parameters == {
        "monthly_requests": 500_000, "user_tokens": 50, "prompt_overhead_tokens": 500,
        "output_tokens": 200, "output_price_per_1m": 0.5, "dev_hours": 12,
        "public_facing": True,
    }  # fmt: skip
    assert workload.policy == "sla_roi"  # was checklists
    assert workload.parameters_from == worksheet
    assert workload.parameters_changed_by == user and workload.parameters_changed_at
    assert len(callbacks) == 1  # the re-assessment, enqueued after commit
    setup = admin_client.get(response.url).content.decode()
    assert "Applied from" in setup and "worksheet v1</a> by " in setup
    assert '<span class="badge badge-good">applied</span>' in setup
    detail = reverse("workloads:worksheet_detail", args=[team.slug, "persona", 1])
    assert 'data-testid="applied"' in admin_client.get(detail).content.decode()


def test_an_applied_worksheet_lets_an_incomplete_workload_be_assessed(admin_client, team):
    data = {"slug": "persona", "name": "Persona", "model": "gpt-4o-mini", "parameters": {}}
    empty = workload_create(team=team, **data)
    assert assessments.assessment_create(workload=empty, reason="manual").errors
    worksheet = worksheet_create(team=team, workload=empty, justification="Because.",
                                 inputs=roi.parse_inputs(SEED_000))  # fmt: skip
    admin_client.post(apply_url(team))
    empty.refresh_from_db()
    assessment = assessments.assessment_create(workload=empty, reason="parameters")
    assert assessment.errors == []
    assert assessment.recommendation == worksheet.recommendation
    assert assessment.outputs["prompt"]["monthly_cost"] == 101.25


def test_editing_the_parameters_by_hand_forgets_the_applied_version(team, user, workload):
    worksheet_create(team=team, workload=workload, justification="Because.",
                     inputs=roi.parse_inputs(SEED_000))  # fmt: skip
    applied = workload_apply_worksheet(worksheet=workload.worksheets.get(), actor=user)
    assert applied.parameters_from is not None
    workload_update(workload=applied, parameters={"monthly_requests": 9}, actor=user)
    applied.refresh_from_db()
    assert applied.parameters_from is None and applied.parameters_changed_by == user
    # Saving other fields leaves the record of the parameters alone.
    changed_at = applied.parameters_changed_at
    workload_update(workload=applied, name="Renamed")
    applied.refresh_from_db()
    assert (applied.parameters_changed_at, applied.parameters_changed_by) == (changed_at, user)


def test_viewers_cannot_apply_and_get_cannot_either(client, admin_client, team, workload,
                                                    member_factory):  # fmt: skip
    worksheet_create(team=team, workload=workload, justification="Because.",
                     inputs=roi.parse_inputs(SEED_000))  # fmt: skip
    assert admin_client.get(apply_url(team)).status_code == 405
    assert admin_client.post(apply_url(team, version=2)).status_code == 404
    client.force_login(member_factory(team, Role.VIEWER))  # the same client, now a viewer
    assert client.post(apply_url(team)).status_code == 403
    workload.refresh_from_db()
    assert workload.parameters_from is None


@pytest.mark.parametrize("asked", ["abc", "9", "0"])
def test_a_page_that_does_not_exist_is_a_400_showing_the_first(admin_client, team, workload, asked):
    worksheet_create(team=team, workload=workload, justification="Because.",
                     inputs=roi.parse_inputs(SEED_000))  # fmt: skip
    url = reverse("workloads:worksheet_list", args=[team.slug])
    response = admin_client.get(f"{url}?page={asked}")
    assert response.status_code == 400
    text = response.content.decode()
    assert f"There is no page “{asked}”: showing page 1 of 1." in text
    assert "v1</a>" in text
    assert admin_client.get(f"{url}?page=1").status_code == 200
