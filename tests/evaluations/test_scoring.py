"""Scorers: label rules, JSON and schema checks, contains/regex, macro-F1 worked out by hand."""

from __future__ import annotations

import pytest

from evaluations import scoring
from evaluations.scoring import (
    contains,
    exact_match,
    expected_label,
    json_schema_valid,
    json_valid,
    label_match,
    macro_f1,
    output_label,
    regex,
    regex_error,
    schema_errors,
    schema_validator,
)


@pytest.mark.parametrize(
    ("output", "label"),
    [
        ('{"category": "billing", "confidence": 0.9}', "billing"),
        ('  {"category": " billing "}\n', "billing"),
        ('{"confidence": 0.9}', None),  # parses, lacks the field
        ('{"category": null}', None),
        ('{"category": 3}', "3"),
        ('"billing"', "billing"),  # a JSON string
        ("billing\n", "billing"),  # plain text
        ("Here is the classification: {'category': 'billing'}", None),
        ('```json\n{"category": "billing"}\n```', None),
    ],
)
def test_output_label_follows_the_label_field_rule(output, label):
    got = output_label(output)
    if label is None:
        assert got != "billing"
    else:
        assert got == label


def test_output_label_reads_another_label_field():
    assert output_label('{"intent": "refund", "category": "x"}', "intent") == "refund"


def test_expected_label_is_the_value_or_its_label_field():
    assert expected_label("billing") == "billing"
    assert expected_label({"category": "billing", "urgent": True}) == "billing"
    assert expected_label({"intent": "refund"}, "intent") == "refund"
    assert expected_label(None) is None


def test_unparsable_output_is_wrong_not_skipped():
    assert label_match('{"category": "billing"', "billing") == 0.0
    assert label_match('{"category": "billing"}', "billing") == 1.0
    assert label_match("BILLING", "billing") == 0.0  # labels are compared exactly
    assert label_match("anything", None) is None  # nothing to compare with


def test_exact_match_compares_text_stripped_and_json_by_value():
    assert exact_match(" Paris \n", "Paris") == 1.0
    assert exact_match("paris", "Paris") == 0.0
    assert exact_match('{"b": 2, "a": [1, 2.0]}', {"a": [1, 2], "b": 2}) == 1.0
    assert exact_match('{"a": 1}', {"a": True}) == 0.0  # true is not 1
    assert exact_match("not json", {"a": 1}) == 0.0
    assert exact_match("x", None) is None


def test_json_valid_is_strict():
    assert json_valid('{"a": 1}') == 1.0
    assert json_valid(" [1, 2] ") == 1.0
    assert json_valid("{'a': 1}") == 0.0
    assert json_valid('{"a": NaN}') == 0.0
    assert json_valid("") == 0.0
    assert json_valid("[" * 100_000) == 0.0  # too deep: not JSON, not a crash


SCHEMA = {
    "type": "object",
    "properties": {"category": {"enum": ["billing", "incident"]}, "email": {"format": "email"}},
    "required": ["category"],
    "additionalProperties": False,
}


def test_json_schema_valid_needs_parse_and_schema():
    is_valid = schema_validator(SCHEMA)
    assert json_schema_valid('{"category": "billing"}', is_valid) == 1.0
    assert json_schema_valid('{"category": "spam"}', is_valid) == 0.0
    assert json_schema_valid('{"category": "billing", "extra": 1}', is_valid) == 0.0
    assert json_schema_valid('{"category": "billing"', is_valid) == 0.0
    assert json_schema_valid('{"category": "billing", "email": "nope"}', is_valid) == 0.0


def test_schema_errors_explain_what_is_wrong():
    assert schema_errors(SCHEMA) == []
    assert schema_errors(True) == []
    assert "is not valid under any of the given schemas" in schema_errors({"type": "nope"})[0]
    assert schema_errors([1, 2]) == ["A JSON Schema is an object (or true/false)."]
    remote = schema_errors({"$ref": "https://example.com/schema.json"})
    assert remote and "Only local references" in remote[0]
    dangling = schema_errors({"$ref": "#/$defs/missing"})
    assert dangling and "point at nothing" in dangling[0]
    assert schema_errors({"$defs": {"a": {"type": "string"}}, "$ref": "#/$defs/a"}) == []


def test_contains_and_regex():
    assert contains("Your ticket is BILLING", "billing") == 0.0
    assert contains("Your ticket is BILLING", "billing", ignore_case=True) == 1.0
    assert regex("order #4521 shipped", r"#\d{4}\b") == 1.0
    assert regex("order shipped", r"#\d{4}\b") == 0.0
    assert regex_error(r"(unclosed") is not None and regex_error(r"\d+") is None


def test_macro_f1_matches_a_confusion_matrix_worked_by_hand():
    expected = ["a", "a", "a", "b", "b", "c"]
    predicted = ["a", "a", "b", "b", None, "a"]
    # a: tp 2, fp 1 (the c), fn 1 → P = R = 2/3, F1 = 2/3
    # b: tp 1, fp 1, fn 1 (the None) → F1 = 1/2;  c: tp 0 → F1 = 0
    f1 = {"a": 2 * (2 / 3) * (2 / 3) / (4 / 3), "b": 0.5, "c": 0.0}
    assert macro_f1(zip(expected, predicted, strict=True)) == pytest.approx(sum(f1.values()) / 3)
    assert macro_f1(zip(expected, predicted, strict=True)) == pytest.approx(7 / 18)


def test_macro_f1_counts_a_label_only_predicted():
    # Labels a, b, x: a is perfect (1), b is missed (0), x is only a false positive (0).
    assert macro_f1([("a", "a"), ("b", "x")]) == pytest.approx(1 / 3)
    assert macro_f1([("a", "a"), ("b", "b")]) == 1.0


def test_macro_f1_ignores_items_without_an_expected_label():
    assert macro_f1([("a", "a"), (None, "b")]) == 1.0
    with pytest.raises(ValueError):
        macro_f1([(None, "a")])


def test_mean_score_skips_only_what_cannot_be_scored():
    assert scoring.mean_score([1.0, 0.0, None, 1.0]) == pytest.approx(2 / 3)
    assert scoring.mean_score([None]) is None


def test_every_scorer_name_of_the_api_is_known():
    assert scoring.SCORERS == (
        "exact_match", "accuracy", "macro_f1", "json_valid", "json_schema_valid", "contains",
        "regex", "llm_judge",
    )  # fmt: skip
