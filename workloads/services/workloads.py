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
from workloads.models import Assessment, Workload, Worksheet
from workloads.selectors import price_inputs
from workloads.services.assessments import assessment_request

WORKLOAD_FIELDS = (
    "slug", "name", "description", "current_approach", "policy", "model", "ft_model",
    "parameters",
)  # fmt: skip
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
        f"parameters.{name}": ["The decision policy is the workload's `policy` field."]
        for name in NOT_PARAMETERS & parameters.keys()
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


def _apply(workload: Workload, data: dict) -> Workload:
    unknown = sorted(set(data) - set(WORKLOAD_FIELDS))
    if unknown:
        raise ValidationError({name: ["Unknown field."] for name in unknown})
    errors: dict[str, list[str]] = {}
    if data.get("slug") in RESERVED_SLUGS:
        errors["slug"] = [f"'{data['slug']}' is reserved: choose another slug."]
    for name, value in data.items():
        if name == "parameters":
            try:
                value = validate_parameters(value)
            except ValidationError as exc:
                errors.update(exc.message_dict)
                continue
        setattr(workload, name, value.strip() if isinstance(value, str) else value)
    taken = Workload.objects.for_team(workload.team).filter(slug=workload.slug)
    if "slug" not in errors and taken.exclude(pk=workload.pk).exists():
        errors["slug"] = [f"A workload with the slug '{workload.slug}' already exists."]
    try:
        # Constraints: the slug is checked above by name; choices by the field validation.
        workload.full_clean(exclude=list(errors), validate_constraints=False)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    return workload


def _save(workload: Workload) -> Workload:
    try:
        with transaction.atomic():
            workload.save()
    except IntegrityError:  # a concurrent create of the same slug won the race
        raise ValidationError({"slug": ["A workload with this slug already exists."]}) from None
    return workload


def workload_create(*, team, data: dict, actor=None) -> Workload:
    """Create a workload from WORKLOAD_FIELDS (slug, name and model required)."""
    workload = _apply(Workload(team=team), data)
    workload = _save(workload)
    assessment_request(workload=workload, reason=Assessment.Reason.PARAMETERS)
    return workload


def workload_update(*, workload: Workload, data: dict, actor=None) -> Workload:
    """Change the given fields; `parameters`, when given, replaces the stored object (and the
    change is recorded: who, when).

    The slug cannot change: usage records and API clients refer to the workload by it.
    """
    return _update(workload, data, actor=actor, source=None)


def _update(workload: Workload, data: dict, *, actor, source: Worksheet | None) -> Workload:
    if "slug" in data and data["slug"] != workload.slug:
        raise ValidationError(
            {"slug": ["The slug cannot change: usage records and API clients refer to it."]}
        )
    before = dict(workload.parameters)
    workload = _apply(workload, data)
    now = timezone.now()
    workload.updated_at = now
    if source is not None or ("parameters" in data and workload.parameters != before):
        workload.parameters_changed_at = now
        workload.parameters_changed_by = actor if getattr(actor, "pk", None) else None
        workload.parameters_from = source
    workload = _save(workload)
    assessment_request(workload=workload, reason=Assessment.Reason.PARAMETERS)
    return workload


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
