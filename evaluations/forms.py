from __future__ import annotations

from django import forms

from evaluations.services.providers import validate_base_url, validate_key_env


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


class ProviderForm(forms.Form):
    """The provider page's form; the rules are those of the API (`services.providers`)."""

    name = forms.CharField(max_length=100, help_text="e.g. OpenAI, Azure EU, Local vLLM.")
    base_url = forms.URLField(
        label="Base URL",
        max_length=500,
        assume_scheme="https",
        help_text="The OpenAI-compatible API root, e.g. https://api.openai.com/v1.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    api_key = forms.CharField(
        label="API key",
        required=False,
        max_length=500,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text="Stored encrypted; never shown again.",
    )
    api_key_env = forms.CharField(
        label="Or: environment variable",
        required=False,
        max_length=100,
        help_text="The name of a server environment variable holding the key (one the "
        "operator allows).",
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )

    def __init__(self, *args, provider=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.provider = provider
        if provider is not None and provider.api_key_source == "stored":
            self.fields[
                "api_key"
            ].help_text = "A key is stored (encrypted). Leave empty to keep it."
            self.fields["clear_api_key"] = forms.BooleanField(
                label="Forget the stored key", required=False
            )

    def clean_base_url(self) -> str:
        return validate_base_url(self.cleaned_data["base_url"])

    def clean_api_key_env(self) -> str:
        return validate_key_env(self.cleaned_data["api_key_env"].strip())

    def clean(self):
        data = super().clean()
        if data.get("api_key") and data.get("api_key_env"):
            self.add_error("api_key", "Give the key or the name of a variable, not both.")
        return data
