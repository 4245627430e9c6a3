"""Forms for workloads and worksheets, and the §8 input fields both are built from.

The §8 fields come from `roi.FIELDS` so that labels and help never drift. Numbers are text inputs
on purpose: a browser's number input drops what it cannot parse, and a user who typed "5O0" must
see it again next to the error. The ROI engine does the validation.
"""

from __future__ import annotations

from django import forms

from workloads import roi
from workloads.formatting import plain
from workloads.models import DESCRIPTION_MAX_LENGTH, Approach, FlagStatus, Policy
from workloads.services.workloads import PARAMETER_SPECS

# What an empty optional input means, shown as its placeholder.
EMPTY_MEANS = {
    "ft_output_tokens": "= output tokens",
    "ft_input_price_per_1m": "= multiplier × input price",
    "ft_output_price_per_1m": "= multiplier × output price",
    "training_cost": "examples × tokens × epochs × price",
    "latency_p99_ms": "not measured",
    "format_error_rate": "not measured",
}


def placeholder(spec: roi.FieldSpec, planned: dict[str, str] | None = None) -> str:
    if planned and spec.name in planned:
        return planned[spec.name]
    if spec.name in EMPTY_MEANS:
        return EMPTY_MEANS[spec.name]
    if spec.default is not None and not spec.required:
        return f"default {plain(spec.default)}"
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


# Inputs that can stay empty on a workload because usage or the price table supplies them.
SUPPLIED = {
    "monthly_requests": "planned; usage replaces it",
    "user_tokens": "planned; usage replaces it",
    "output_tokens": "planned; usage replaces it",
    "prompt_overhead_tokens": "the production prompt's count",
    "input_price_per_1m": "from the price table",
    "output_price_per_1m": "from the price table",
    "ft_input_price_per_1m": "price table, or multiplier × base",
    "ft_output_price_per_1m": "price table, or multiplier × base",
    "training_price_per_1m": "from the price table",
    "latency_p99_ms": "planned estimate; usage replaces it",
    "format_error_rate": "planned estimate; usage replaces it",
}


class WorkloadForm(forms.Form):
    """The workload's own fields plus its ROI parameters (one input per §8 name).

    Types and rules are checked by `workloads.services.workloads`; its errors come back here
    next to the fields (`parameters.<name>` → `<name>`).
    """

    name = forms.CharField(max_length=120, help_text="What the feature is called, e.g. "
                           "'Support ticket classifier'.")  # fmt: skip
    slug = forms.SlugField(
        max_length=60,
        help_text="Short id used in URLs, usage records and the API. It cannot change later.",
    )
    description = forms.CharField(
        required=False,
        max_length=DESCRIPTION_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="What it does, who uses it, what matters about it.",
    )
    current_approach = forms.ChoiceField(
        choices=Approach.choices,
        initial=Approach.PROMPT,
        help_text="How it runs today. A recommendation that differs raises a switch flag.",
    )
    policy = forms.ChoiceField(
        choices=Policy.choices,
        initial=Policy.SLA_ROI,
        help_text="Which framework's verdict becomes this workload's recommendation.",
    )
    model = forms.CharField(
        max_length=200,
        help_text="Model used under prompt engineering; its prices come from the price table.",
        widget=forms.TextInput(attrs={"list": "priced-models", "autocomplete": "off"}),
    )
    ft_model = forms.CharField(
        max_length=200,
        required=False,
        label="Fine-tuned model",
        help_text="The fine-tuned model (ft:<base>:…) if there is one. Empty: fine-tuned prices "
        "are the base model's × the multiplier.",
        widget=forms.TextInput(attrs={"list": "priced-models", "autocomplete": "off"}),
    )

    def __init__(self, *args, editing: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        for spec in PARAMETER_SPECS:
            self.fields[spec.name] = roi_form_field(spec, planned=SUPPLIED)
        if editing:
            self.fields["slug"].disabled = True

    def service_data(self) -> dict:
        """cleaned_data shaped for workload_create/workload_update."""
        data = {name: self.cleaned_data[name] for name in self.base_field_names()}
        parameters = {}
        for spec in PARAMETER_SPECS:
            raw = self.data.get(spec.name, "")
            if spec.kind == "bool":
                if self.cleaned_data[spec.name]:
                    parameters[spec.name] = True
            elif str(raw).strip():
                parameters[spec.name] = str(raw).strip()
        data["parameters"] = parameters
        return data

    @staticmethod
    def base_field_names() -> tuple[str, ...]:
        return ("name", "slug", "description", "current_approach", "policy", "model", "ft_model")

    @staticmethod
    def initial_for(workload) -> dict:
        initial = {name: getattr(workload, name) for name in WorkloadForm.base_field_names()}
        return initial | dict(workload.parameters)

    def add_service_errors(self, exc) -> None:
        for key, messages in exc.message_dict.items():
            field = key.removeprefix("parameters.")
            self.add_error(field if field in self.fields else None, messages)


# Attributes that make a model input offer the team's priced models.
MODEL_INPUT = {"list": "priced-models", "autocomplete": "off", "spellcheck": "false"}


def prompt_key(version) -> str:
    """How the worksheet names a prompt version: `slug@number`."""
    return f"{version.template.slug}@{version.number}"


class WorksheetForm(forms.Form):
    """Every §8 input (validated by the ROI engine itself), the models whose prices fill the
    price inputs, and what saving needs: a workload and a justification."""

    model = forms.CharField(
        required=False,
        max_length=200,
        label="Model (prompt engineering)",
        help_text="Pick a model to fill the input, output and training prices from the price "
        "table. You can still type over any price.",
        widget=forms.TextInput(attrs=MODEL_INPUT),
    )
    ft_model = forms.CharField(
        required=False,
        max_length=200,
        label="Fine-tuned model",
        help_text="Optional (ft:<base>:…). Fills the fine-tuned prices; empty means "
        "multiplier × base prices.",
        widget=forms.TextInput(attrs=MODEL_INPUT),
    )
    prompt = forms.ChoiceField(
        required=False,
        label="Prompt version",
        help_text="Pick a version from the prompt registry to take the prompt overhead from its "
        "static tokens (system prompt, few-shot examples, included prompts).",
    )
    # The models whose prices the price inputs currently hold, and the prompt version whose
    # tokens the overhead holds: a different one fills them again.
    applied_model = forms.CharField(required=False, widget=forms.HiddenInput)
    applied_ft_model = forms.CharField(required=False, widget=forms.HiddenInput)
    applied_prompt = forms.CharField(required=False, widget=forms.HiddenInput)
    workload = forms.ChoiceField(
        required=False,
        help_text="The saved worksheet becomes this workload's next version.",
    )
    title = forms.CharField(
        required=False,
        max_length=200,
        help_text="Optional, e.g. 'Q3 volume forecast'.",
    )
    justification = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Why this approach, in your words: the figures that matter, what the "
        "checklists missed, what would make you revisit. Required to save.",
    )

    def __init__(self, *args, workloads=(), prompt_versions=(), typed_workload=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prompt"].choices = [
            ("", "— type the overhead yourself —"),
            *(
                (prompt_key(v), f"{v.template.name} v{v.number} · {v.static_tokens:,} tokens")
                for v in prompt_versions
            ),
        ]
        self.fields["workload"].choices = [
            ("", "— choose a workload —"),
            *((w.slug, w.name) for w in workloads),
        ]
        if typed_workload:
            # `workloads` is then at most the one typed: the choices validate it.
            field = self.fields["workload"]
            field.widget = forms.TextInput(attrs={"placeholder": "workload-slug"})
            field.error_messages["invalid_choice"] = "No workload with slug “%(value)s”."
            field.help_text = f"Its slug. {field.help_text}"
        for spec in roi.FIELDS:
            self.fields[spec.name] = roi_form_field(spec)
        self.inputs: roi.RoiInputs | None = None

    def clean(self):
        cleaned = super().clean()
        # The engine sees exactly what was typed; its errors land next to the fields.
        raw = {name: self.data[name] for name in roi.FIELDS_BY_NAME if name in self.data}
        try:
            self.inputs = roi.parse_inputs(raw)
        except roi.RoiInputError as exc:
            for error in exc.errors:
                self.add_error(error["field"], error["message"])
        return cleaned

    def check_saveable(self) -> bool:
        """Add the errors that only saving cares about; True when the worksheet can be saved."""
        if not self.data.get("workload"):
            self.add_error("workload", "Choose the workload this worksheet is about.")
        if not self.data.get("justification", "").strip():
            self.add_error(
                "justification", "Explain the choice: it is what reviewers and later readers see."
            )
        return not self.errors


class FlagFilterForm(forms.Form):
    """The flag list's filters (query parameters). An unknown value is an error shown at its
    filter, and that filter is ignored."""

    LIVE = "live"

    status = forms.ChoiceField(required=False)
    workload = forms.ChoiceField(required=False)

    def __init__(self, *args, workloads=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Any"), (self.LIVE, "Live"), *FlagStatus.choices]
        self.fields["workload"].choices = [("", "Any"), *workloads]
        self.fields["status"].error_messages["invalid_choice"] = (
            "Unknown status “%(value)s”: choose live, " + ", ".join(FlagStatus.values) + "."
        )
        self.fields["workload"].error_messages["invalid_choice"] = (
            "No workload “%(value)s” in this team."
        )

    def value(self, name: str) -> str:
        """The filter's value when valid, else "" (no filter)."""
        self.is_valid()
        return self.cleaned_data.get(name) or ""
