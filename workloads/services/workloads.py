"""Writes for workloads, and their planned ROI figures.

A workload's `parameters` hold §8 inputs under their §8 names (see `workloads/roi.py`):
everything that usage does not observe, plus planned figures used until usage arrives
(`monthly_requests`, `user_tokens`, `output_tokens`) and, as planned estimates, the observed-only
`latency_p99_ms` / `format_error_rate` (measurements replace them once they exist). Prices are
optional overrides; without them the price table prices `model` and `ft_model`. The decision
policy is the workload's own `policy` field, never a parameter.
"""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from evaluations.pricing import DEFAULT_FT_MULTIPLIER
from workloads import roi
from workloads.models import Approach, Assessment, Policy, Workload, Worksheet
from workloads.selectors import price_inputs
from workloads.services.assessments import assessment_request

WORKLOAD_FIELDS = (
    "slug", "name", "description", "current_approach", "policy", "model", "ft_model",
    "parameters",
)  # fmt: skip
# What can change after creation: everything but the slug, which usage and clients refer to.
EDITABLE_FIELDS = WORKLOAD_FIELDS[1:]
POLICY_IS_A_FIELD = "The decision policy is the workload's `policy` field."
SLUG_IS_FIXED = "The slug cannot change: usage records and API clients refer to it."
# Inputs a workload never stores as parameters: the policy is a field of its own.
NOT_PARAMETERS = frozenset({"policy"})
PARAMETER_SPECS = tuple(spec for spec in roi.FIELDS if spec.name not in NOT_PARAMETERS)


def validate_parameters(parameters: object) -> dict:
    """Check parameters against the §8 inputs and return them normalised to JSON numbers.

    Only §8 names are allowed, each with the ROI engine's own rules. Required inputs may be
    absent (they come from usage or the price table). Errors are keyed `parameters.<name>`.
    """
    if not isinstance(parameters, dict):
        raise ValidationError({"parameters": ["Expected an object of ROI inputs."]})
    errors = {
        f"parameters.{name}": [POLICY_IS_A_FIELD] for name in NOT_PARAMETERS & parameters.keys()
    }
    given = {k: v for k, v in parameters.items() if k not in NOT_PARAMETERS}
    # Stand-ins for absent required inputs, so that only the given values are judged.
    probe = {spec.name: 0 for spec in roi.FIELDS if spec.required} | given
    try:
        snapshot = roi.parse_inputs(probe).as_dict()
    except roi.RoiInputError as exc:
        for error in exc.errors:
            errors.setdefault(f"parameters.{error['field']}", []).append(error["message"])
    if errors:
        raise ValidationError(errors)
    # null means "derive it", the same as absent: keep the stored object minimal.
    return {name: snapshot[name] for name in given if snapshot[name] is not None}


# Slugs that would collide with the pages next to /workloads/<slug>/.
RESERVED_SLUGS = frozenset({"new"})


def slug_problem(team, slug: str) -> str | None:
    """Why `slug` cannot name a new workload of `team` (reserved, or taken), or None."""
    if slug in RESERVED_SLUGS:
        return f"'{slug}' is reserved: choose another slug."
    if Workload.objects.for_team(team).filter(slug=slug).exists():
        return f"A workload with the slug '{slug}' already exists."
    return None


def workload_clean(*, team, data: dict, workload: Workload | None = None) -> dict:
    """Raw workload fields (a form's, demo data) checked against every rule and returned ready
    for `workload_create` (`workload` None) or `workload_update`: known fields only, a free and
    unreserved slug that never changes, choices and lengths, §8 parameters as JSON numbers.
    Raises ValidationError listing every problem at once. (The API's serializer applies the
    same rules itself.)"""
    errors: dict[str, list[str]] = {
        name: ["Unknown field."] for name in sorted(set(data) - set(WORKLOAD_FIELDS))
    }
    values: dict = {}
    for name in WORKLOAD_FIELDS:
        if name not in data:
            continue
        value = data[name]
        if name == "parameters":
            try:
                value = validate_parameters(value)
            except ValidationError as exc:
                errors.update(exc.message_dict)
                continue
        values[name] = value.strip() if isinstance(value, str) else value
    if workload is not None:
        if values.pop("slug", workload.slug) != workload.slug:
            errors["slug"] = [SLUG_IS_FIXED]
    elif "slug" in values and (problem := slug_problem(team, values["slug"])):
        errors["slug"] = [problem]
    current = {} if workload is None else {f: getattr(workload, f) for f in WORKLOAD_FIELDS}
    probe = Workload(team=team, **{**current, **values})
    try:
        probe.full_clean(exclude=list(errors), validate_unique=False, validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return values


def _save(workload: Workload) -> Workload:
    try:
        with transaction.atomic():
            workload.save()
    except IntegrityError:  # a concurrent create of the same slug won the race
        raise ValidationError({"slug": ["A workload with this slug already exists."]}) from None
    return workload


def workload_create(
    *,
    team,
    slug: str,
    name: str,
    model: str,
    description: str = "",
    current_approach: str = Approach.PROMPT,
    policy: str = Policy.SLA_ROI,
    ft_model: str = "",
    parameters: dict | None = None,
    actor=None,
) -> Workload:
    """Create a workload from checked values (`workload_clean`, or the API's serializer) and
    ask for its first assessment."""
    workload = Workload(
        team=team, slug=slug, name=name, model=model, description=description,
        current_approach=current_approach, policy=policy, ft_model=ft_model,
        parameters=parameters or {},
    )  # fmt: skip
    workload = _save(workload)
    assessment_request(workload=workload, reason=Assessment.Reason.PARAMETERS)
    return workload


def workload_update(*, workload: Workload, actor=None, **changes) -> Workload:
    """Change the given EDITABLE_FIELDS to checked values; `parameters`, when given, replaces
    the stored object (and the change is recorded: who, when). The slug never changes."""
    return _update(workload, changes, actor=actor, source=None)


def _update(workload: Workload, changes: dict, *, actor, source: Worksheet | None) -> Workload:
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise TypeError(f"Not editable workload fields: {', '.join(unknown)}")
    before = dict(workload.parameters)
    for name, value in changes.items():
        setattr(workload, name, value)
    now = timezone.now()
    workload.updated_at = now
    if source is not None or ("parameters" in changes and workload.parameters != before):
        workload.parameters_changed_at = now
        workload.parameters_changed_by = actor if getattr(actor, "pk", None) else None
        workload.parameters_from = source
    workload = _save(workload)
    assessment_request(workload=workload, reason=Assessment.Reason.PARAMETERS)
    return workload


def workload_record_finetune(*, workload: Workload, fine_tuned_model: str,
                             training_cost: Decimal | None) -> Workload:  # fmt: skip
    """A fine-tune of this workload succeeded: its model becomes the workload's fine-tuned
    model and its actual training cost (trained tokens × price) replaces the estimate, so the
    next assessment prices the model that exists."""
    parameters = dict(workload.parameters)
    if training_cost is not None:
        # A given cost wins over the estimate from examples × tokens × epochs × price.
        parameters["training_cost"] = float(training_cost)
    return _update(
        workload, {"ft_model": fine_tuned_model, "parameters": parameters}, actor=None, source=None
    )


def workload_apply_worksheet(*, worksheet: Worksheet, actor=None) -> Workload:
    """Make a saved worksheet's inputs its workload's parameters (and its policy the workload's
    policy), recording the version they came from; the workload is then re-assessed.

    Inputs that say nothing of their own are left out, so that their sources keep speaking:
    prices the price table gives for the workload's models, and defaults.
    """
    workload = worksheet.workload
    inputs = worksheet.inputs
    multiplier = Decimal(str(inputs.get("ft_price_multiplier") or DEFAULT_FT_MULTIPLIER))
    table = price_inputs(
        workload.team, model=workload.model, ft_model=workload.ft_model, ft_multiplier=multiplier
    )
    parameters = {}
    for spec in PARAMETER_SPECS:
        value = inputs.get(spec.name)
        if value is None or _same(value, table.get(spec.name)) or _same(value, spec.default):
            continue
        parameters[spec.name] = value
    data = {"parameters": parameters, "policy": inputs.get("policy") or workload.policy}
    with transaction.atomic():
        return _update(workload, data, actor=actor, source=worksheet)


def _same(value: object, other: object) -> bool:
    if other is None:
        return False
    if isinstance(value, bool) or isinstance(other, bool):
        return value is other
    if isinstance(value, str) or isinstance(other, str):
        return value == other
    return Decimal(str(value)) == Decimal(str(other))
