"""The ROI engine: prompt engineering vs fine-tuning, in plain Decimal arithmetic (SPEC §8).

Pure Python on purpose (no Django import) so that the worksheet, the stateless API, the
re-assessment task and the forecast all share one implementation that is tested without a
database.

- ``parse_inputs(data)`` validates a JSON/form mapping into :class:`RoiInputs` and reports every
  error at once (:class:`RoiInputError`).
- ``evaluate(inputs)`` returns a :class:`RoiResult`: per-request and monthly costs, investment,
  payback, break-even, crossover volume, the three policies' verdicts, the recommendation (after
  the knowledge rule) and warnings. ``RoiResult.as_dict()`` is the JSON shape of §8.
- ``chart_volumes`` and ``cost_curve`` feed the crossover chart; ``threshold_margins`` lists the
  thresholds the verdicts hinge on, nearest first, to derive ADR revisit triggers.

Money is USD; quantities are ``Decimal`` (whole-number inputs are ``int``).
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation, localcontext
from typing import Any

from workloads import formatting as fmt

__all__ = [
    "APPROACHES",
    "FIELDS",
    "FIELDS_BY_NAME",
    "PERSONA_CHANGE_FREQUENCIES",
    "POLICIES",
    "SECTIONS",
    "ApproachCost",
    "FieldSpec",
    "RoiInputError",
    "RoiInputs",
    "RoiResult",
    "Verdict",
    "chart_volumes",
    "cost_curve",
    "evaluate",
    "json_plain",
    "parse_inputs",
    "parse_value",
    "threshold_margins",
]


@dataclass(frozen=True)
class ApproachName:
    """How an approach is named: `label` for badges and choices, `phrase` inside a sentence."""

    label: str
    phrase: str


@dataclass(frozen=True)
class PolicyName:
    """How a decision policy is named: `title` in tables, `label` in choices, `name` inside a
    sentence, `question` for what it asks."""

    title: str
    label: str
    name: str
    question: str


# The one registry of approach and policy names: the models' choices, the pages, the ROI
# reasons and drafted decision records all read it.
APPROACHES: dict[str, ApproachName] = {
    "prompt": ApproachName("Prompt engineering", "prompt engineering"),
    "fine-tune": ApproachName("Fine-tuned model", "a fine-tuned model"),
    "hybrid": ApproachName("Hybrid (fine-tune + prompt)", "a hybrid of fine-tuning and prompting"),
    "rag": ApproachName("RAG + prompting", "RAG + prompting"),
}
POLICIES: dict[str, PolicyName] = {
    "sla_roi": PolicyName(
        "SLA + ROI",
        "SLA + ROI (latency, format errors, payback)",
        "the SLA/ROI decision function",
        "Is a latency or format SLA breached, and does fine-tuning pay back in time?",
    ),
    "checklists": PolicyName(
        "Checklists",
        "Checklists (use-X-when lists)",
        "the checklist comparison",
        "Are more 'use fine-tuning when' checks true than 'use prompts when' checks?",
    ),
    "flowchart": PolicyName(
        "Flowchart",
        "Flowchart (data, consistency, volume, accuracy)",
        "the decision flowchart",
        "500+ labeled examples, consistency critical, 10,000+ requests, accuracy > 90%?",
    ),
}
PERSONA_CHANGE_FREQUENCIES = ("weekly", "monthly", "rarely")

# Thresholds fixed by the seeds' frameworks (the SLA/ROI ones are inputs instead).
LOW_VOLUME_REQUESTS = 10_000
HIGH_VOLUME_REQUESTS = 100_000
MIN_LABELED_EXAMPLES = 500
ACCURACY_BAR = Decimal("0.90")
PROMPT_BLOAT_TOKENS = 2_000

_MILLION = Decimal(1_000_000)
# JSON keeps 10 decimal places: per-request costs are fractions of a cent.
_JSON_PLACES = Decimal("0.0000000001")
# Generous enough for any real bill, small enough that every figure still fits in a float.
_MAX_VALUE = Decimal(10) ** 12
_ONE = Decimal(1)
# 34 digits (IEEE decimal128) so a caller's thread context never changes our figures.
_CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
_TRUE_STRINGS = frozenset({"true", "on", "1"})
_FALSE_STRINGS = frozenset({"false", "off", "0"})

SECTIONS: dict[str, str] = {
    "volume": "Volume",
    "tokens_prices": "Tokens and prices",
    "training_effort": "Training and effort",
    "sla": "Service levels",
    "checklist": "Checklist",
    "flowchart": "Flowchart",
}


@dataclass(frozen=True)
class FieldSpec:
    """One §8 input: how to validate it and how to present it on the worksheet."""

    name: str
    kind: str  # "decimal" | "int" | "bool" | "choice"
    section: str
    label: str
    help: str
    required: bool
    default: object
    choices: tuple[str, ...] = ()
    minimum: Decimal | None = Decimal(0)
    maximum: Decimal | None = _MAX_VALUE
    exclusive_minimum: bool = False
    nullable: bool = False


# Small constructors keep FIELDS readable: one line of intent per input, not twelve arguments.


def _decimal(
    name: str, section: str, label: str, help: str, default: Decimal | None = None, **extra: Any
) -> FieldSpec:
    required = default is None and not extra.get("nullable", False)
    return FieldSpec(name, "decimal", section, label, help, required, default, **extra)


def _int(
    name: str, section: str, label: str, help: str, default: int | None = None, **extra: Any
) -> FieldSpec:
    return FieldSpec(name, "int", section, label, help, default is None, default, **extra)


def _fraction(
    name: str, section: str, label: str, help: str, default: Decimal | None, nullable: bool = False
) -> FieldSpec:
    return FieldSpec(
        name, "decimal", section, label, help, False, default,
        maximum=_ONE, nullable=nullable,
    )  # fmt: skip


def _bool(name: str, label: str, help: str, section: str = "checklist") -> FieldSpec:
    return FieldSpec(name, "bool", section, label, help, False, False, minimum=None, maximum=None)


def _choice(
    name: str, section: str, label: str, help: str, choices: tuple[str, ...], default: str
) -> FieldSpec:
    return FieldSpec(
        name, "choice", section, label, help, False, default,
        choices=choices, minimum=None, maximum=None,
    )  # fmt: skip


FIELDS: tuple[FieldSpec, ...] = (
    _int("monthly_requests", "volume", "Monthly requests",
         "Requests the feature serves per month (R). Drives every monthly cost and the volume "
         "checks of the checklists and the flowchart."),
    _decimal("horizon_months", "volume", "Payback horizon (months)",
             "How soon fine-tuning must pay back its one-time investment to be worth it (H). "
             "Also spreads the investment over the crossover chart.",
             Decimal(3), exclusive_minimum=True),
    _decimal("user_tokens", "tokens_prices", "User tokens per request",
             "Average input tokens the user sends per request (U), the same under both "
             "approaches."),
    _decimal("prompt_overhead_tokens", "tokens_prices", "Prompt overhead tokens",
             "System prompt plus few-shot examples sent with every request under prompt "
             "engineering (P). Above 2,000 tokens the prompt is bloated."),
    _decimal("output_tokens", "tokens_prices", "Output tokens per request",
             "Average tokens the model answers with under prompt engineering (O)."),
    _decimal("ft_overhead_tokens", "tokens_prices", "Fine-tuned overhead tokens",
             "Instructions still sent to the fine-tuned model per request (Pf), e.g. a short "
             "overlay in a hybrid. Usually 0: the behaviour lives in the weights.", Decimal(0)),
    _decimal("ft_output_tokens", "tokens_prices", "Fine-tuned output tokens",
             "Average answer length of the fine-tuned model (Of). Leave empty to use the "
             "prompted output tokens.", nullable=True),
    _decimal("input_price_per_1m", "tokens_prices", "Input price per 1M tokens",
             "USD per million input tokens of the base model (Pi)."),
    _decimal("output_price_per_1m", "tokens_prices", "Output price per 1M tokens",
             "USD per million output tokens of the base model (Po)."),
    _decimal("ft_price_multiplier", "tokens_prices", "Fine-tuned price multiplier",
             "How much more a fine-tuned model costs per token than its base (m). Used only "
             "where the fine-tuned prices are left empty.", Decimal(2)),
    _decimal("ft_input_price_per_1m", "tokens_prices", "Fine-tuned input price per 1M",
             "USD per million input tokens of the fine-tuned model (Pfi). Leave empty for "
             "multiplier × base input price.", nullable=True),
    _decimal("ft_output_price_per_1m", "tokens_prices", "Fine-tuned output price per 1M",
             "USD per million output tokens of the fine-tuned model (Pfo). Leave empty for "
             "multiplier × base output price.", nullable=True),
    _decimal("training_cost", "training_effort", "Training cost",
             "One-time USD cost of the training run. Leave empty to compute it as examples × "
             "tokens per example × epochs × training price.", nullable=True),
    _int("training_examples", "training_effort", "Training examples",
         "Examples in the fine-tuning data set.", 0),
    _decimal("training_tokens_per_example", "training_effort", "Tokens per training example",
             "Average tokens in one training example (prompt and answer).", Decimal(0)),
    _int("epochs", "training_effort", "Epochs",
         "Passes over the training data; each pass is billed.", 3),
    _decimal("training_price_per_1m", "training_effort", "Training price per 1M tokens",
             "USD per million training tokens charged by the provider.", Decimal(0)),
    _decimal("dev_hours", "training_effort", "Development hours",
             "One-time engineering hours to curate data, train, evaluate and deploy the "
             "fine-tuned model.", Decimal(0)),
    _decimal("hourly_rate", "training_effort", "Hourly rate",
             "USD per engineering hour, for development and maintenance.", Decimal(150)),
    _decimal("maintenance_hours_per_month", "training_effort", "Maintenance hours per month",
             "Recurring hours a fine-tuned model costs: retraining, evaluation, versioning.",
             Decimal(0)),
    _decimal("latency_sla_ms", "sla", "Latency SLA (ms)",
             "Highest acceptable p99 latency. A measured p99 above it is an SLA breach.",
             Decimal(600)),
    _decimal("latency_p99_ms", "sla", "Measured p99 latency (ms)",
             "Observed 99th-percentile latency under prompt engineering. Leave empty when not "
             "measured: an unknown latency never counts as a breach.", nullable=True),
    _fraction("format_error_threshold", "sla", "Format error threshold",
              "Highest acceptable share of answers that break the expected format "
              "(0.05 = 5%).", Decimal("0.05")),
    _fraction("format_error_rate", "sla", "Measured format error rate",
              "Observed share of malformed answers (0–1). Leave empty when not measured: an "
              "unknown rate never counts as a breach.", None, nullable=True),
    _int("token_cutoff_per_month", "sla", "Token cutoff per month",
         "Below this many tokens a month, and without an SLA breach, the SLA/ROI policy keeps "
         "prompt engineering; above it, it suggests a hybrid.", 5_000_000),
    _choice("policy", "sla", "Decision policy",
            "Which framework's verdict becomes the recommendation: the SLA/ROI function, the "
            "two checklists, or the decision flowchart.", tuple(POLICIES), "sla_roi"),
    _bool("rapid_prototyping", "Rapid prototyping",
          "The feature is still being prototyped and iterated quickly."),
    _choice("persona_change_frequency", "checklist", "Persona/prompt changes",
            "How often the behaviour or persona changes. Weekly favours prompts; monthly or "
            "rarely is stable enough to train.", PERSONA_CHANGE_FREQUENCIES, "monthly"),
    _bool("multi_persona", "Multiple personas",
          "Several personas or variants must run on the same model (favours a hybrid)."),
    _bool("limited_ml_expertise", "Limited ML expertise",
          "The team has little experience operating trained models."),
    _bool("time_to_market_critical", "Time to market critical",
          "Shipping soon matters more than per-request cost."),
    _bool("consistency_critical", "Consistency critical",
          "Answers must keep the same style and format every time, e.g. brand voice or strict "
          "JSON. Also the flowchart's second question."),
    _bool("public_facing", "Public-facing",
          "Untrusted users can try to jailbreak it; trained behaviour resists better."),
    _bool("latency_sensitive", "Latency sensitive",
          "Users wait on the answer, so shorter prompts matter."),
    _bool("long_conversations", "Long conversations",
          "Conversations run for many turns, where prompted personas drift."),
    _bool("dynamic_knowledge", "Knowledge changes often",
          "Answers depend on facts that change. Fine-tuning does not inject knowledge, so the "
          "recommendation moves to RAG (or a hybrid)."),
    _int("labeled_examples", "flowchart", "Labeled examples available",
         "Labeled input/output pairs you have today; the flowchart needs 500 to fine-tune.", 0),
    _fraction("accuracy_target", "flowchart", "Accuracy target",
              "Required accuracy (0–1). The flowchart fine-tunes only above 0.90.",
              Decimal("0.0")),
)  # fmt: skip

FIELDS_BY_NAME: dict[str, FieldSpec] = {spec.name: spec for spec in FIELDS}


@dataclass(frozen=True, kw_only=True)
class RoiInputs:
    """Validated §8 inputs; build it with :func:`parse_inputs`.

    ``None`` in ``ft_output_tokens``, ``ft_input_price_per_1m``, ``ft_output_price_per_1m`` and
    ``training_cost`` means "derive it" (see the ``effective_*`` properties).
    """

    monthly_requests: int
    horizon_months: Decimal = Decimal(3)
    user_tokens: Decimal
    prompt_overhead_tokens: Decimal
    output_tokens: Decimal
    ft_overhead_tokens: Decimal = Decimal(0)
    ft_output_tokens: Decimal | None = None
    input_price_per_1m: Decimal
    output_price_per_1m: Decimal
    ft_price_multiplier: Decimal = Decimal(2)
    ft_input_price_per_1m: Decimal | None = None
    ft_output_price_per_1m: Decimal | None = None
    training_cost: Decimal | None = None
    training_examples: int = 0
    training_tokens_per_example: Decimal = Decimal(0)
    epochs: int = 3
    training_price_per_1m: Decimal = Decimal(0)
    dev_hours: Decimal = Decimal(0)
    hourly_rate: Decimal = Decimal(150)
    maintenance_hours_per_month: Decimal = Decimal(0)
    latency_sla_ms: Decimal = Decimal(600)
    latency_p99_ms: Decimal | None = None
    format_error_threshold: Decimal = Decimal("0.05")
    format_error_rate: Decimal | None = None
    token_cutoff_per_month: int = 5_000_000
    policy: str = "sla_roi"
    rapid_prototyping: bool = False
    persona_change_frequency: str = "monthly"
    multi_persona: bool = False
    limited_ml_expertise: bool = False
    time_to_market_critical: bool = False
    consistency_critical: bool = False
    public_facing: bool = False
    latency_sensitive: bool = False
    long_conversations: bool = False
    dynamic_knowledge: bool = False
    labeled_examples: int = 0
    accuracy_target: Decimal = Decimal("0.0")

    @property
    def effective_ft_output_tokens(self) -> Decimal:
        """Of: the given value, else the prompted output tokens O."""
        return _or(self.ft_output_tokens, self.output_tokens)

    @property
    def effective_ft_input_price_per_1m(self) -> Decimal:
        """Pfi: the given price, else m·Pi."""
        return _or(self.ft_input_price_per_1m, self.ft_price_multiplier * self.input_price_per_1m)

    @property
    def effective_ft_output_price_per_1m(self) -> Decimal:
        """Pfo: the given price, else m·Po."""
        derived = self.ft_price_multiplier * self.output_price_per_1m
        return _or(self.ft_output_price_per_1m, derived)

    @property
    def effective_training_cost(self) -> Decimal:
        """The given training cost, else examples·tokens per example·epochs·price / 10⁶."""
        if self.training_cost is not None:
            return self.training_cost
        tokens = self.training_examples * self.training_tokens_per_example * self.epochs
        return tokens * self.training_price_per_1m / _MILLION

    def as_dict(self) -> dict[str, object]:
        """JSON-ready snapshot; ``parse_inputs(inputs.as_dict())`` gives the inputs back."""
        return {spec.name: json_plain(getattr(self, spec.name)) for spec in FIELDS}


def _or(value: Decimal | None, fallback: Decimal) -> Decimal:
    return fallback if value is None else value


class RoiInputError(ValueError):
    """Invalid ROI inputs; ``errors`` holds every problem as ``{"field", "message"}``."""

    def __init__(self, errors: list[dict[str, str]]):
        self.errors = errors
        super().__init__("; ".join(f"{e['field']}: {e['message']}" for e in errors))


class _FieldError(ValueError):
    pass


def parse_inputs(data: Mapping[str, object]) -> RoiInputs:
    """Validate a JSON object or form mapping into :class:`RoiInputs`.

    Strict: unknown keys, missing required fields, wrong types, NaN/Infinity, negatives and
    out-of-range values are all reported together in one :class:`RoiInputError`. A blank string
    (an empty HTML input) counts as absent, so optional fields take their default.
    """
    if not isinstance(data, Mapping):
        raise RoiInputError([{"field": "non_field_errors", "message": "expected an object"}])
    values: dict[str, object] = {}
    errors: list[dict[str, str]] = []
    for spec in FIELDS:
        try:
            values[spec.name] = _parse_field(spec, data)
        except _FieldError as exc:
            errors.append({"field": spec.name, "message": str(exc)})
    unknown = sorted(str(key) for key in data if key not in FIELDS_BY_NAME)
    errors.extend({"field": key, "message": "unknown field"} for key in unknown)
    if errors:
        raise RoiInputError(errors)
    return RoiInputs(**values)


def _parse_field(spec: FieldSpec, data: Mapping[str, object]) -> object:
    raw = data.get(spec.name)
    absent = spec.name not in data or (isinstance(raw, str) and not raw.strip())
    if absent:
        if spec.required:
            raise _FieldError("this field is required")
        return spec.default
    return parse_value(spec, raw)


def parse_value(spec: FieldSpec, raw: object) -> object:
    """One given input under its spec's rules (those of :func:`parse_inputs`): the typed value,
    or ValueError with the message. Strings are read as a form sends them."""
    if raw is None:
        if spec.nullable:
            return None
        raise _FieldError("this field may not be null")
    if spec.kind == "bool":
        return _parse_bool(raw)
    if spec.kind == "choice":
        return _parse_choice(spec, raw)
    number = _parse_number(raw)
    if spec.kind == "int":
        if number != number.to_integral_value():
            raise _FieldError("must be a whole number")
        number = number.to_integral_value()
    elif abs(number) <= _MAX_VALUE:
        # Inputs keep the places figures are given with: a finer fraction (5e-324 months)
        # would only make figures too large for a JSON number.
        number = number.quantize(_JSON_PLACES, context=_CONTEXT)
        number = Decimal(0) if number.is_zero() else number
    _check_range(spec, number)
    return int(number) if spec.kind == "int" else number


def _parse_bool(raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    # HTML forms send checkbox and select values as strings.
    if isinstance(raw, str) and raw.strip().lower() in _TRUE_STRINGS:
        return True
    if isinstance(raw, str) and raw.strip().lower() in _FALSE_STRINGS:
        return False
    raise _FieldError("must be true or false")


def _parse_choice(spec: FieldSpec, raw: object) -> str:
    if raw not in spec.choices:
        raise _FieldError(f"must be one of: {', '.join(spec.choices)}")
    return str(raw)


def _parse_number(raw: object) -> Decimal:
    # bool is an int subclass: True must not quietly become 1 request.
    if isinstance(raw, bool) or not isinstance(raw, int | float | Decimal | str):
        raise _FieldError("must be a number")
    if isinstance(raw, float):
        raw = repr(raw)  # the shortest round-trip form, so 0.15 stays exactly 0.15
    try:
        number = Decimal(raw.strip() if isinstance(raw, str) else raw)
    except InvalidOperation:
        raise _FieldError("must be a number") from None
    if not number.is_finite():
        raise _FieldError("must be a finite number")
    return Decimal(0) if number.is_zero() else number  # no "-0" in snapshots


def _check_range(spec: FieldSpec, number: Decimal) -> None:
    low, high = spec.minimum, spec.maximum
    if low is not None and spec.exclusive_minimum and number <= low:
        raise _FieldError(f"must be greater than {fmt.number(low)}")
    # A real upper bound (not the sanity cap) reads better as a range: "between 0 and 1".
    if low is not None and high is not None and high < _MAX_VALUE and not low <= number <= high:
        raise _FieldError(f"must be between {fmt.number(low)} and {fmt.number(high)}")
    if low is not None and number < low:
        raise _FieldError(f"must be ≥ {fmt.number(low)}")
    if high is not None and number > high:
        raise _FieldError(f"must be ≤ {fmt.number(high)}")


@dataclass(frozen=True)
class ApproachCost:
    """What one approach costs per request and per month."""

    cost_per_request: Decimal
    monthly_cost: Decimal


@dataclass(frozen=True)
class Verdict:
    """One framework's pick among :data:`APPROACHES` and the reasons behind it."""

    verdict: str
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class RoiResult:
    """Everything §8 outputs for one set of inputs."""

    inputs: RoiInputs
    prompt: ApproachCost
    fine_tune: ApproachCost
    training_cost: Decimal
    investment: Decimal
    monthly_savings: Decimal
    payback_months: Decimal | None
    break_even_requests: Decimal | None
    crossover_monthly_requests: Decimal | None
    monthly_tokens: Decimal
    verdicts: dict[str, Verdict]
    recommendation: str
    recommendation_reasons: tuple[str, ...]
    warnings: tuple[str, ...]

    def as_dict(self) -> dict[str, object]:
        """The §8 JSON output: decimals rounded half-even to 6 places, ``None`` as null."""
        return {
            "prompt": _cost_dict(self.prompt),
            "fine_tune": _cost_dict(self.fine_tune),
            "training_cost": _json_number(self.training_cost),
            "investment": _json_number(self.investment),
            "monthly_savings": _json_number(self.monthly_savings),
            "payback_months": _json_number(self.payback_months),
            "break_even_requests": _json_number(self.break_even_requests),
            "crossover_monthly_requests": _json_number(self.crossover_monthly_requests),
            "monthly_tokens": _json_number(self.monthly_tokens, integral_as_int=True),
            "verdicts": {
                name: {"verdict": v.verdict, "reasons": list(v.reasons)}
                for name, v in self.verdicts.items()
            },
            "recommendation": self.recommendation,
            "recommendation_reasons": list(self.recommendation_reasons),
            "warnings": list(self.warnings),
        }


def _cost_dict(cost: ApproachCost) -> dict[str, object]:
    return {
        "cost_per_request": _json_number(cost.cost_per_request),
        "monthly_cost": _json_number(cost.monthly_cost),
    }


# --- the arithmetic -------------------------------------------------------------------------


def evaluate(inputs: RoiInputs) -> RoiResult:
    """Compute costs, payback, break-even, crossover, verdicts and the recommendation."""
    with localcontext(_CONTEXT):
        return _evaluate(inputs)


def _evaluate(i: RoiInputs) -> RoiResult:
    c_p, c_f = _prompt_cost_per_request(i), _ft_cost_per_request(i)
    requests = Decimal(i.monthly_requests)
    prompt = ApproachCost(c_p, requests * c_p)
    fine_tune = ApproachCost(c_f, requests * c_f + _maintenance(i))
    investment = _investment(i)
    savings = prompt.monthly_cost - fine_tune.monthly_cost
    margin = c_p - c_f
    payback = _payback(investment, savings)
    monthly_tokens = requests * (i.user_tokens + i.prompt_overhead_tokens + i.output_tokens)
    verdicts = {
        "sla_roi": _sla_roi_verdict(i, investment, savings, monthly_tokens),
        "checklists": _checklists_verdict(i),
        "flowchart": _flowchart_verdict(i),
    }
    recommendation, why = _recommend(i, verdicts[i.policy])
    crossover = _crossover(i, investment, margin)
    return RoiResult(
        inputs=i,
        prompt=prompt,
        fine_tune=fine_tune,
        training_cost=i.effective_training_cost,
        investment=investment,
        monthly_savings=savings,
        payback_months=payback,
        break_even_requests=investment / margin if margin > 0 else None,
        crossover_monthly_requests=crossover,
        monthly_tokens=monthly_tokens,
        verdicts=verdicts,
        recommendation=recommendation,
        recommendation_reasons=why,
        warnings=_warnings(i, prompt, fine_tune, payback, monthly_tokens),
    )


def _prompt_cost_per_request(i: RoiInputs) -> Decimal:
    input_cost = (i.user_tokens + i.prompt_overhead_tokens) * i.input_price_per_1m
    return (input_cost + i.output_tokens * i.output_price_per_1m) / _MILLION


def _ft_cost_per_request(i: RoiInputs) -> Decimal:
    input_cost = (i.user_tokens + i.ft_overhead_tokens) * i.effective_ft_input_price_per_1m
    output_cost = i.effective_ft_output_tokens * i.effective_ft_output_price_per_1m
    return (input_cost + output_cost) / _MILLION


def _maintenance(i: RoiInputs) -> Decimal:
    return i.maintenance_hours_per_month * i.hourly_rate


def _investment(i: RoiInputs) -> Decimal:
    return i.effective_training_cost + i.dev_hours * i.hourly_rate


def _payback(investment: Decimal, savings: Decimal) -> Decimal | None:
    return investment / savings if savings > 0 else None


def _crossover(i: RoiInputs, investment: Decimal, margin: Decimal) -> Decimal | None:
    # The volume where fine-tuning, its investment spread over the horizon, costs what prompting
    # does: exactly the volume at which payback equals the horizon.
    if margin <= 0:
        return None
    return (investment / i.horizon_months + _maintenance(i)) / margin


# --- verdicts -------------------------------------------------------------------------------


def _sla_roi_verdict(
    i: RoiInputs, investment: Decimal, savings: Decimal, monthly_tokens: Decimal
) -> Verdict:
    """Seed 001's decision function, payback corrected to investment ÷ monthly savings."""
    breaches = _breaches(i)
    if breaches:
        payback = _payback(investment, savings)
        if payback is not None and payback <= i.horizon_months:
            why = (
                f"payback {fmt.months(payback)} ≤ horizon {fmt.months(i.horizon_months)} "
                f"({fmt.usd(investment)} investment ÷ {fmt.usd(savings)}/month savings)"
            )
            return Verdict("fine-tune", (*breaches, why))
        return Verdict("hybrid", (*breaches, _slow_payback_reason(i, investment, savings)))
    calm = f"no SLA breach ({_latency_note(i)}; {_format_note(i)})"
    tokens, cutoff = fmt.count(monthly_tokens), fmt.count(i.token_cutoff_per_month)
    if monthly_tokens < i.token_cutoff_per_month:
        low = f"{tokens} tokens/month < {cutoff} cutoff (low volume): prompting is cheapest"
        return Verdict("prompt", (calm, low))
    high = f"{tokens} tokens/month ≥ {cutoff} cutoff (high volume): hybrid to cut prompt tokens"
    return Verdict("hybrid", (calm, high))


def _breaches(i: RoiInputs) -> tuple[str, ...]:
    # An unmeasured figure never breaches: we only act on evidence.
    found = []
    if i.latency_p99_ms is not None and i.latency_p99_ms > i.latency_sla_ms:
        found.append(
            f"p99 latency {fmt.ms(i.latency_p99_ms)} exceeds the {fmt.ms(i.latency_sla_ms)} SLA"
        )
    if i.format_error_rate is not None and i.format_error_rate > i.format_error_threshold:
        found.append(
            f"format error rate {fmt.percent(i.format_error_rate)} exceeds the "
            f"{fmt.percent(i.format_error_threshold)} threshold"
        )
    return tuple(found)


def _slow_payback_reason(i: RoiInputs, investment: Decimal, savings: Decimal) -> str:
    tail = "hybrid: fine-tune for format, keep prompts for dynamic constraints"
    payback = _payback(investment, savings)
    if payback is None:
        return (
            f"fine-tuning saves nothing per month at this volume (monthly savings "
            f"{fmt.usd(savings)}), so it never pays back: {tail}"
        )
    return (
        f"payback {fmt.months(payback)} ({fmt.usd(investment)} investment ÷ {fmt.usd(savings)}"
        f"/month savings) exceeds the {fmt.number(i.horizon_months)}-month horizon: {tail}"
    )


def _latency_note(i: RoiInputs) -> str:
    if i.latency_p99_ms is None:
        return "p99 latency not measured"
    return f"p99 latency {fmt.ms(i.latency_p99_ms)} ≤ {fmt.ms(i.latency_sla_ms)} SLA"


def _format_note(i: RoiInputs) -> str:
    if i.format_error_rate is None:
        return "format error rate not measured"
    rate, threshold = fmt.percent(i.format_error_rate), fmt.percent(i.format_error_threshold)
    return f"format error rate {rate} ≤ {threshold}"


def _checklists_verdict(i: RoiInputs) -> Verdict:
    """Seed 000's two "use X when" checklists: fine-tune only when its side has strictly more."""
    prompt_side = [text for hit, text in _prompt_checks(i) if hit]
    ft_side = [text for hit, text in _ft_checks(i) if hit]
    score = (
        f"{_plural(len(ft_side), 'fine-tune check')} vs {_plural(len(prompt_side), 'prompt check')}"
    )
    listed = [f"prompt: {t}" for t in prompt_side] + [f"fine-tune: {t}" for t in ft_side]
    if len(ft_side) <= len(prompt_side):
        return Verdict("prompt", (f"{score}: not more fine-tune checks", *listed))
    if i.multi_persona:
        why = f"{score}, but several personas share the model: fine-tuned base + prompt overlays"
        return Verdict("hybrid", (why, *listed))
    return Verdict("fine-tune", (f"{score}: more fine-tune checks", *listed))


def _prompt_checks(i: RoiInputs) -> list[tuple[bool, str]]:
    requests = fmt.count(i.monthly_requests)
    return [
        (i.rapid_prototyping, "rapid prototyping and iteration"),
        (
            i.monthly_requests < LOW_VOLUME_REQUESTS,
            f"{requests} requests/month < {fmt.count(LOW_VOLUME_REQUESTS)} (low volume)",
        ),
        (i.persona_change_frequency == "weekly", "the persona changes weekly"),
        (i.multi_persona, "several personas needed on the same model"),
        (i.limited_ml_expertise, "limited ML expertise available"),
        (i.time_to_market_critical, "time to market is critical"),
    ]


def _ft_checks(i: RoiInputs) -> list[tuple[bool, str]]:
    requests = fmt.count(i.monthly_requests)
    return [
        (
            i.monthly_requests > HIGH_VOLUME_REQUESTS,
            f"{requests} requests/month > {fmt.count(HIGH_VOLUME_REQUESTS)} (high volume)",
        ),
        (i.consistency_critical, "consistency is critical"),
        (i.public_facing, "public-facing, so robustness against jailbreaking matters"),
        (i.latency_sensitive, "latency optimisation needed"),
        (i.long_conversations, "long-running conversations, where prompted personas drift"),
        (
            i.persona_change_frequency in ("monthly", "rarely"),
            f"stable persona (changes {i.persona_change_frequency})",
        ),
    ]


def _flowchart_verdict(i: RoiInputs) -> Verdict:
    """Seed 002's flowchart: the first "no" answer stops at prompt engineering."""
    steps = [
        (
            i.labeled_examples >= MIN_LABELED_EXAMPLES,
            f"{fmt.count(i.labeled_examples)} labeled examples ≥ {MIN_LABELED_EXAMPLES}",
            f"{fmt.count(i.labeled_examples)} labeled examples < {MIN_LABELED_EXAMPLES}: "
            "not enough data to fine-tune",
        ),
        (
            i.consistency_critical,
            "consistency is critical",
            "consistency is not critical: prompt engineering is enough",
        ),
        (
            i.monthly_requests >= LOW_VOLUME_REQUESTS,
            f"{fmt.count(i.monthly_requests)} requests/month ≥ {fmt.count(LOW_VOLUME_REQUESTS)}",
            f"{fmt.count(i.monthly_requests)} requests/month < {fmt.count(LOW_VOLUME_REQUESTS)}: "
            "try prompt engineering first",
        ),
        (
            i.accuracy_target > ACCURACY_BAR,
            f"accuracy target {fmt.percent(i.accuracy_target)} > {fmt.percent(ACCURACY_BAR)}",
            f"accuracy target {fmt.percent(i.accuracy_target)} ≤ {fmt.percent(ACCURACY_BAR)}: "
            "prompt engineering might suffice",
        ),
    ]
    passed = []
    for ok, yes, no in steps:
        if not ok:
            return Verdict("prompt", (*passed, no))
        passed.append(yes)
    return Verdict("fine-tune", tuple(passed))


_KNOWLEDGE_RULE = {"prompt": "rag", "fine-tune": "hybrid"}


def _recommend(i: RoiInputs, verdict: Verdict) -> tuple[str, tuple[str, ...]]:
    headline = f"{POLICIES[i.policy].name} picks {APPROACHES[verdict.verdict].phrase}"
    reasons = (headline, *verdict.reasons)
    if not i.dynamic_knowledge or verdict.verdict not in _KNOWLEDGE_RULE:
        return verdict.verdict, reasons
    # Seed 001: fine-tuning bakes in patterns, not facts, so changing knowledge needs retrieval.
    target = _KNOWLEDGE_RULE[verdict.verdict]
    rule = (
        f"knowledge changes often and fine-tuning does not inject knowledge: "
        f"{APPROACHES[verdict.verdict].phrase} becomes {APPROACHES[target].phrase}"
    )
    return target, (*reasons, rule)


def _warnings(
    i: RoiInputs,
    prompt: ApproachCost,
    fine_tune: ApproachCost,
    payback: Decimal | None,
    monthly_tokens: Decimal,
) -> tuple[str, ...]:
    found = []
    if i.prompt_overhead_tokens > PROMPT_BLOAT_TOKENS:
        found.append(
            f"prompt bloat: evaluate fine-tuning — {fmt.tokens(i.prompt_overhead_tokens)} prompt "
            f"overhead tokens per request exceed {fmt.count(PROMPT_BLOAT_TOKENS)}"
        )
    if fine_tune.cost_per_request >= prompt.cost_per_request:
        found.append(
            "fine-tuned calls cost at least as much as prompted calls at these prices: "
            "fine-tuning cannot pay back on token cost"
        )
    elif payback is None and _maintenance(i) > 0:
        margin = prompt.cost_per_request - fine_tune.cost_per_request
        found.append(
            f"fine-tuning saves per call but not per month: maintenance "
            f"({fmt.usd(_maintenance(i))}/month) outweighs the token savings below "
            f"{fmt.requests_per_month(_maintenance(i) / margin)}"
        )
    if monthly_tokens == 0:
        found.append(
            "zero volume: no tokens per month, so monthly costs, savings and payback say nothing "
            "yet — enter the expected requests and token sizes"
        )
    if payback is not None and payback > i.horizon_months:
        found.append(
            f"payback {fmt.months(payback)} is longer than the "
            f"{fmt.number(i.horizon_months)}-month horizon"
        )
    return tuple(found)


# --- chart ----------------------------------------------------------------------------------


def cost_curve(inputs: RoiInputs, volumes: Sequence[int]) -> list[dict[str, object]]:
    """Monthly cost of each approach at each volume, for the crossover chart.

    The fine-tune line includes the investment amortised over the horizon, so the two lines
    meet at ``crossover_monthly_requests``.
    """
    with localcontext(_CONTEXT):
        c_p, c_f = _prompt_cost_per_request(inputs), _ft_cost_per_request(inputs)
        fixed = _investment(inputs) / inputs.horizon_months + _maintenance(inputs)
        return [
            {
                "requests": volume,
                "prompt": _json_number(Decimal(volume) * c_p),
                "fine_tune": _json_number(Decimal(volume) * c_f + fixed),
            }
            for volume in volumes
        ]


def chart_volumes(inputs: RoiInputs, points: int = 25) -> list[int]:
    """X-axis volumes from 0 past max(2×current, 1.5×crossover) in round steps.

    At most ``points`` evenly spaced round values, plus the current volume when it falls
    between them, ascending and without duplicates.
    """
    if points < 2:
        raise ValueError("points must be at least 2")
    current = inputs.monthly_requests
    with localcontext(_CONTEXT):
        margin = _prompt_cost_per_request(inputs) - _ft_cost_per_request(inputs)
        crossover = _crossover(inputs, _investment(inputs), margin)
    top = max(2 * current, math.ceil(crossover * Decimal("1.5")) if crossover else 0)
    # With no volume and no crossover, still show the seeds' low-volume range.
    top = top or LOW_VOLUME_REQUESTS
    step = _nice_step(math.ceil(Decimal(top) / (points - 1)))
    ticks = [k * step for k in range(math.ceil(Decimal(top) / step) + 1)]
    return sorted({*ticks, current})


def _nice_step(raw: int) -> int:
    """The smallest whole 1, 2, 2.5 or 5 × 10ᵏ that is ≥ raw (raw ≥ 1)."""
    magnitude = 10 ** (len(str(raw)) - 1)
    candidates = [magnitude, 2 * magnitude, 5 * magnitude, 10 * magnitude]
    if magnitude >= 10:  # 2.5 × 10ᵏ is whole only from k = 1
        candidates.append(5 * magnitude // 2)
    return min(c for c in candidates if c >= raw)


# --- thresholds -----------------------------------------------------------------------------

_NEGATE = {">": "<=", ">=": "<", "<": ">=", "<=": ">"}
_COMPARE = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}
_COMPARATOR_WORDS = {">": "above", ">=": "at or above", "<": "below", "<=": "at or below"}


@dataclass(frozen=True)
class _Rule:
    metric: str
    comparator: str  # the rule's own condition: `value comparator threshold`
    threshold: Decimal
    value: Decimal | None
    policies: tuple[str, ...]
    becomes_true: str  # what changes when the condition starts to hold
    becomes_false: str  # what changes when it stops holding


def threshold_margins(result: RoiResult) -> list[dict[str, object]]:
    """Every numeric threshold the verdicts hinge on, with the trigger that would flip it.

    ``comparator``/``threshold`` describe the crossing that changes a verdict from where the
    inputs are now; ``distance`` is ``|value − threshold| / |threshold|`` (absolute when the
    threshold is 0, ``None`` when the metric is unknown). The same trigger reached by several
    rules (e.g. rising to 10,000 requests when that is also the crossover) is listed once.
    Nearest first, unknown last.
    """
    merged: dict[tuple[object, ...], dict[str, object]] = {}
    for margin, effect in map(_margin, _rules(result)):
        key = (margin["metric"], margin["comparator"], margin["threshold"])
        kept = merged.setdefault(key, margin)
        if kept is not margin:
            kept["policies"] = list(dict.fromkeys([*kept["policies"], *margin["policies"]]))
        kept["description"] += ("; " if kept is not margin else ": ") + effect
    return sorted(merged.values(), key=lambda m: (m["distance"] is None, m["distance"] or 0))


def _rules(result: RoiResult) -> list[_Rule]:
    i = result.inputs
    requests = Decimal(i.monthly_requests)
    horizon = fmt.number(i.horizon_months)
    rules = [
        _Rule("latency_p99_ms", ">", i.latency_sla_ms, i.latency_p99_ms, ("sla_roi",),
              "p99 latency breaches the SLA (SLA/ROI moves to fine-tune or hybrid)",
              "p99 latency back within the SLA"),
        _Rule("format_error_rate", ">", i.format_error_threshold, i.format_error_rate,
              ("sla_roi",),
              "format errors breach the threshold (SLA/ROI moves to fine-tune or hybrid)",
              "format errors back within the threshold"),
        _Rule("monthly_tokens", "<", Decimal(i.token_cutoff_per_month), result.monthly_tokens,
              ("sla_roi",),
              "below the token cutoff SLA/ROI keeps prompt engineering when no SLA is breached",
              "at or above the token cutoff SLA/ROI moves to hybrid when no SLA is breached"),
        _Rule("payback_months", "<=", i.horizon_months, result.payback_months, ("sla_roi",),
              f"fine-tuning pays back within the {horizon}-month horizon "
              "(SLA/ROI picks fine-tune on a breach)",
              f"payback no longer fits the {horizon}-month horizon "
              "(SLA/ROI picks hybrid on a breach)"),
        _Rule("monthly_requests", "<", Decimal(LOW_VOLUME_REQUESTS), requests,
              ("checklists", "flowchart"),
              "low volume: a prompt-side check, and the flowchart stops at prompt engineering",
              "no longer low volume: the checklists lose a prompt-side check and the flowchart "
              "goes on to the accuracy question"),
        _Rule("monthly_requests", ">", Decimal(HIGH_VOLUME_REQUESTS), requests, ("checklists",),
              "high volume: the checklists gain a fine-tune-side check",
              "no longer high volume: the checklists lose a fine-tune-side check"),
    ]  # fmt: skip
    if result.crossover_monthly_requests is not None:
        rules.append(
            _Rule("monthly_requests", ">=", result.crossover_monthly_requests, requests,
                  ("sla_roi",),
                  f"past the crossover volume fine-tuning pays back within {horizon} months",
                  f"below the crossover volume fine-tuning no longer pays back within "
                  f"{horizon} months"),
        )  # fmt: skip
    return rules


def _margin(rule: _Rule) -> tuple[dict[str, object], str]:
    """The trigger that would flip ``rule`` from where it is now, and what flipping changes."""
    holds = rule.value is not None and _COMPARE[rule.comparator](rule.value, rule.threshold)
    comparator = _NEGATE[rule.comparator] if holds else rule.comparator
    effect = rule.becomes_false if holds else rule.becomes_true
    now = "unknown" if rule.value is None else fmt.figure(rule.metric, rule.value)
    with localcontext(_CONTEXT):
        distance = None if rule.value is None else _distance(rule.value, rule.threshold)
    margin = {
        "metric": rule.metric,
        "comparator": comparator,
        "threshold": json_plain(_round_json(rule.threshold)),
        "value": None if rule.value is None else json_plain(_round_json(rule.value)),
        "distance": distance,
        "policies": list(rule.policies),
        "description": (
            f"{fmt.FIGURES[rule.metric].words} {_COMPARATOR_WORDS[comparator]} "
            f"{fmt.figure(rule.metric, rule.threshold)} (now {now})"
        ),
    }
    return margin, effect


def _distance(value: Decimal, threshold: Decimal) -> float:
    gap = abs(value - threshold)
    return float(_round_json(gap / abs(threshold) if threshold else gap))


# --- formatting -----------------------------------------------------------------------------


def _round_json(value: Decimal) -> Decimal:
    # Enough precision for the integer digits and the ten places, or quantize raises on big
    # figures (the documented limits reach ~1e30 dollars).
    context = Context(prec=max(34, value.adjusted() + 12), rounding=ROUND_HALF_EVEN)
    return value.quantize(_JSON_PLACES, context=context)


def _json_number(value: Decimal | None, *, integral_as_int: bool = False) -> float | int | None:
    if value is None:
        return None
    rounded = _round_json(value)
    if integral_as_int and rounded == rounded.to_integral_value():
        return int(rounded)
    return float(rounded) if rounded else 0.0  # never "-0.0"


def json_plain(value: object) -> object:
    """Decimal → int when whole, else float; everything else unchanged."""
    if not isinstance(value, Decimal):
        return value
    return int(value) if value == value.to_integral_value() else float(value)


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}{'' if count == 1 else 's'}"
