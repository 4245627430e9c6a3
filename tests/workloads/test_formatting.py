"""The one way figures are written (workloads/formatting.py): pure, tested without a database."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from hypothesis import given
from hypothesis import strategies as st

from workloads import formatting as fmt


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (1234.5, "$1,234.50"),
        (D("101.25"), "$101.25"),
        (0, "$0.00"),
        (-27.3, "−$27.30"),
        (0.000321, "$0.000321"),
        (0.0002025, "$0.0002025"),
        (0.00012, "$0.00012"),
        (0.5, "$0.50"),
        (0.999999, "$1.00"),
        (-0.0000001, "−$0.0000001"),
        (1e-12, "$0.000000000001"),
        ("12.5", "$12.50"),
        (None, "—"),
        ("", "—"),
        ("n/a", "—"),
        (True, "—"),
    ],
)
def test_dollars(value, text):
    assert fmt.usd(value) == text


@pytest.mark.parametrize(
    ("func", "value", "text"),
    [
        (fmt.count, 2746300.6594612114, "2,746,301"),
        (fmt.count, 2289868, "2,289,868"),
        (fmt.count, 0.4, "0"),
        (fmt.count, -0.4, "0"),  # never "−0"
        (fmt.count, 10**15, "1,000,000,000,000,000"),
        (fmt.tokens, 1983.27, "1,983.3"),
        (fmt.tokens, 40, "40"),
        (fmt.ms, 824.66, "824.7 ms"),
        (fmt.ms, 600, "600 ms"),
        (fmt.percent, 0.068218, "6.82%"),
        (fmt.percent, 0.05, "5%"),
        (fmt.percent, 1, "100%"),
        (fmt.months, 7.7769852279, "7.78 months"),
        (fmt.months, 1, "1 month"),
        (fmt.months, 6, "6 months"),
        (fmt.months, 0.0417, "0.042 months"),  # days of payback do not read as 0
        (fmt.requests_per_month, 2746300.66, "2,746,301 requests/month"),
        (fmt.number, 0.025, "0.03"),
        (fmt.yes_no, True, "yes"),
        (fmt.yes_no, False, "no"),
        (fmt.yes_no, None, "—"),
    ],
)
def test_counts_tokens_latency_rates_and_months(func, value, text):
    assert func(value) == text


def test_plain_is_what_a_person_types():
    assert fmt.plain(D("0.150000")) == "0.15"
    assert fmt.plain(3_000_000) == "3000000"
    assert fmt.plain(0.0) == "0"
    assert fmt.plain(True) is True
    assert fmt.plain("gpt-4o") == "gpt-4o"


def test_named_figures_use_their_unit():
    assert fmt.figure("crossover_monthly_requests", 2746300.6) == "2,746,301 requests/month"
    assert fmt.figure("latency_p99_ms", 824.7) == "824.7 ms"
    assert fmt.figure("format_error_rate", 0.068218) == "6.82%"
    assert fmt.figure("monthly_savings", -5.4) == "−$5.40"
    assert fmt.figure("payback_months", 5.3079) == "5.31 months"
    assert fmt.figure("unknown_figure", 3.14159) == "3.14"


@pytest.mark.parametrize(
    ("savings", "phrase"),
    [
        (453, "would save $453.00 a month"),
        (-5.4, "would cost $5.40 a month more"),
        (-0.000001, "would cost the same each month"),
        (0, "would cost the same each month"),
        (None, "has no known effect on the monthly cost"),
    ],
)
def test_savings_read_with_their_sign_in_words(savings, phrase):
    assert fmt.savings_phrase(savings) == phrase


def test_figure_rows_label_every_figure_and_say_what_is_unknown():
    rows = dict(
        fmt.figure_rows(
            {
                "monthly_requests": 2289868,
                "crossover_monthly_requests": 2746300.6594612114,
                "monthly_tokens": 4632952532.32,
                "token_cutoff_per_month": 5_000_000,
                "latency_p99_ms": 824.7,
                "latency_sla_ms": 600,
                "format_error_rate": None,
                "format_error_threshold": 0.05,
                "prompt_monthly_cost": 736.12959063,
                "fine_tune_monthly_cost": 426.94808526,
                "monthly_savings": 309.18150537,
                "payback_months": None,
                "horizon_months": 6,
            }
        )
    )
    assert rows == {
        "Requests per month": "2,289,868",
        "Crossover volume": "2,746,301 requests/month",
        "Tokens per month": "4,632,952,532 (cutoff 5,000,000)",
        "p99 latency": "824.7 ms (SLA 600 ms)",
        "Format error rate": "not measured (threshold 5%)",
        "Monthly cost, prompted / fine-tuned": "$736.13 / $426.95",
        "Monthly savings from fine-tuning": "$309.18",
        "Payback": "never (horizon 6 months)",
    }
    assert dict(fmt.figure_rows({}))["Crossover volume"].startswith("none: fine-tuning cannot")


def test_markdown_lists_and_paragraphs_are_separated_by_blank_lines():
    text = fmt.paragraphs("Why:", fmt.bullets(["one\nline", "two"]), "", "Figures:")
    assert text == "Why:\n\n- one line\n- two\n\nFigures:"


@given(st.decimals(allow_nan=False, allow_infinity=False, min_value=-(10**12), max_value=10**12))
def test_every_amount_has_cents_and_one_sign(value):
    text = fmt.usd(value)
    assert text.lstrip(fmt.MINUS).startswith("$")
    assert text.count(fmt.MINUS) <= 1 and "-" not in text
    assert len(text.split(".")[1]) >= 2
