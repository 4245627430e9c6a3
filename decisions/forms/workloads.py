from __future__ import annotations

from django import forms

from decisions.forms.roi_fields import roi_form_field
from decisions.models import Approach, Policy
from decisions.services.workloads import PARAMETER_SPECS

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

    Types and rules are checked by `decisions.services.workloads`; its errors come back here
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
