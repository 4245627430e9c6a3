from __future__ import annotations

import json

from django import forms

from evaluations.models import DESCRIPTION_MAX_LENGTH, Split, TaskKind
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


def serializer_errors_to_form(form: forms.Form, errors: dict) -> None:
    """Put a serializer's errors on the form's fields of the same name (else on the form)."""
    for name, messages in errors.items():
        field = name if name in form.fields else None
        for message in messages if isinstance(messages, list) else [messages]:
            form.add_error(field, str(message))


class DatasetForm(forms.Form):
    """Field types only: the dataset serializer of the API checks the values (one rule set)."""

    name = forms.CharField(max_length=200)
    description = forms.CharField(
        required=False, max_length=DESCRIPTION_MAX_LENGTH, widget=forms.Textarea(attrs={"rows": 2})
    )
    task_kind = forms.ChoiceField(
        label="Task kind",
        choices=TaskKind.choices,
        help_text="Classification scores labels (accuracy, macro-F1); extraction checks JSON "
        "against the output schema; generation and persona compare text.",
    )
    label_field = forms.CharField(
        label="Label field",
        max_length=100,
        initial="category",
        help_text="For classification: the JSON field of an output that holds its label.",
    )
    output_schema = forms.CharField(
        label="Output JSON Schema (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 6, "spellcheck": "false", "class": "code"}),
        help_text='e.g. {"type": "object", "properties": {"category": {"enum": ["billing", '
        '"incident"]}}, "required": ["category"]}',
    )

    def clean_output_schema(self):
        text = self.cleaned_data["output_schema"].strip()
        if not text:
            return None
        try:
            return json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"Not valid JSON: {error}.") from None


IMPORT_FORMATS = [("auto", "Detect from the file name or content"), ("jsonl", "JSON Lines"),
                  ("json", "A JSON list"), ("csv", "CSV with a header line")]  # fmt: skip
MAX_UPLOAD_BYTES = 20 * 2**20


class DatasetImportForm(forms.Form):
    file = forms.FileField(
        required=False,
        help_text="JSON Lines (.jsonl), a JSON list (.json) or CSV (.csv), UTF-8, up to 20 MB.",
    )
    text = forms.CharField(
        label="Or paste items",
        required=False,
        widget=forms.Textarea(attrs={"rows": 8, "spellcheck": "false", "class": "code"}),
        help_text='One JSON object per line: {"input": {"ticket": "…"}, "expected": "billing", '
        '"split": "test", "tags": ["edge-case"]}',
    )
    format = forms.ChoiceField(choices=IMPORT_FORMATS, initial="auto")

    def clean(self):
        data = super().clean()
        upload, text = data.get("file"), (data.get("text") or "").strip()
        if upload and text:
            raise forms.ValidationError("Upload a file or paste items, not both.")
        if not upload and not text:
            raise forms.ValidationError("Upload a file or paste items.")
        if upload and upload.size > MAX_UPLOAD_BYTES:
            self.add_error("file", "The file is larger than 20 MB: import it in parts.")
        return data

    def source(self) -> tuple[str, bytes]:
        """(format, raw bytes) of what was sent; the format is detected when asked to."""
        upload = self.cleaned_data.get("file")
        raw = upload.read() if upload else self.cleaned_data["text"].strip().encode()
        kind = self.cleaned_data["format"]
        if kind == "auto":
            name = (upload.name if upload else "").lower()
            kind = next((k for k in ("jsonl", "json", "csv") if name.endswith(f".{k}")), "")
            if name.endswith(".ndjson"):
                kind = "jsonl"
            if not kind:
                start = raw.lstrip()[:1]
                kind = {b"[": "json", b"{": "jsonl"}.get(start, "csv")
        return kind, raw


class SplitForm(forms.Form):
    train = forms.DecimalField(label="Train %", min_value=0, max_value=100, initial=80)
    validation = forms.DecimalField(label="Validation %", min_value=0, max_value=100, initial=10)
    test = forms.DecimalField(label="Test %", min_value=0, max_value=100, initial=10)
    seed = forms.IntegerField(min_value=0, max_value=2**31 - 1, initial=0)


class ItemFilterForm(forms.Form):
    split = forms.ChoiceField(
        required=False, choices=[("", "Every split"), *Split.choices, ("unassigned", "Unassigned")]
    )
    tag = forms.ChoiceField(required=False, choices=[("", "Every tag")])

    def __init__(self, *args, tags=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["tag"].choices = [("", "Every tag"), *((t, t) for t in tags)]
