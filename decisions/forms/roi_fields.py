"""Form fields for the §8 inputs, built from `roi.FIELDS` so that labels and help never drift.

Numbers are text inputs on purpose: a browser's number input drops what it cannot parse, and a
user who typed "5O0" must see it again next to the error. The ROI engine does the validation.
"""

from __future__ import annotations

from django import forms

from decisions import roi

# What an empty optional input means, shown as its placeholder.
EMPTY_MEANS = {
    "ft_output_tokens": "= output tokens",
    "ft_input_price_per_1m": "= multiplier × input price",
    "ft_output_price_per_1m": "= multiplier × output price",
    "training_cost": "examples × tokens × epochs × price",
    "latency_p99_ms": "not measured",
    "format_error_rate": "not measured",
}


def _plain(value: object) -> str:
    text = str(value)
    return text.rstrip("0").rstrip(".") if "." in text else text


def placeholder(spec: roi.FieldSpec, planned: dict[str, str] | None = None) -> str:
    if planned and spec.name in planned:
        return planned[spec.name]
    if spec.name in EMPTY_MEANS:
        return EMPTY_MEANS[spec.name]
    if spec.default is not None and not spec.required:
        return f"default {_plain(spec.default)}"
    return ""


def roi_form_field(spec: roi.FieldSpec, *, planned: dict[str, str] | None = None) -> forms.Field:
    """An unvalidated field for one input (the engine judges the value); `planned` gives the
    placeholder of inputs that may stay empty because something else supplies them."""
    describedby = {"aria-describedby": f"id_{spec.name}_helptext id_{spec.name}_error"}
    common = {"label": spec.label, "help_text": spec.help, "required": False}
    if spec.kind == "bool":
        return forms.BooleanField(widget=forms.CheckboxInput(attrs=describedby), **common)
    if spec.kind == "choice":
        empty = f"default: {spec.default}"
        choices = [("", empty), *((c, c.replace("_", " ")) for c in spec.choices)]
        return forms.CharField(widget=forms.Select(choices=choices, attrs=describedby), **common)
    attrs = {
        **describedby,
        "inputmode": "numeric" if spec.kind == "int" else "decimal",
        "autocomplete": "off",
        "placeholder": placeholder(spec, planned),
    }
    return forms.CharField(widget=forms.TextInput(attrs=attrs), **common)


def sections(form: forms.Form, specs=roi.FIELDS) -> list[dict]:
    """The form's §8 fields grouped by `roi.SECTIONS`, in the engine's order."""
    names = {spec.name for spec in specs if spec.name in form.fields}
    return [
        {
            "key": key,
            "title": title,
            "fields": [form[s.name] for s in specs if s.section == key and s.name in names],
        }
        for key, title in roi.SECTIONS.items()
    ]
