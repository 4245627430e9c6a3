from __future__ import annotations

from django import forms


def _price_field(label: str, help_text: str, required: bool = True) -> forms.DecimalField:
    # A text input keeps exactly what was typed when it is not a number (type=number would not).
    return forms.DecimalField(
        label=label,
        help_text=help_text,
        required=required,
        max_digits=12,
        decimal_places=6,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


class ModelPriceForm(forms.Form):
    """Types only; the rules (pattern syntax, non-negative, unique per team) live in
    `evaluations.services.prices` and come back as field errors."""

    model = forms.CharField(
        label="Model name or pattern",
        max_length=200,
        help_text="An exact name (gpt-4o-mini), or a pattern with * (gpt-4.1*, "
        "ft:gpt-4o-mini:acme:*). The exact name wins, then the longest matching pattern. "
        "Fine-tuned names (ft:<base>:…) without a row of their own cost the base price × "
        "the fine-tune multiplier.",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    input_per_1m = _price_field(
        "Input USD per 1M tokens", "What the provider charges per million prompt (input) tokens."
    )
    output_per_1m = _price_field(
        "Output USD per 1M tokens", "Per million generated (output) tokens."
    )
    training_per_1m = _price_field(
        "Training USD per 1M tokens",
        "Per million training tokens, for fine-tuning cost estimates. Leave empty if the model "
        "cannot be fine-tuned.",
        required=False,
    )

    notes = forms.CharField(
        max_length=200,
        required=False,
        help_text="Optional: where the figure comes from, e.g. the provider's price page and date.",
    )


class PriceCheckForm(forms.Form):
    model = forms.CharField(
        label="Model name",
        max_length=200,
        required=False,
        help_text="Type a model name to see which row prices it.",
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "spellcheck": "false", "placeholder": "e.g. gpt-4o-mini"}
        ),
    )
