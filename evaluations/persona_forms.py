"""Forms of the persona pages: field types and text-to-list parsing only; the API's persona
serializers check the values (one rule set for the pages and the API)."""

from __future__ import annotations

import json

from django import forms

from evaluations.persona import IN_PERSONA_THRESHOLD, PATTERN_CHECKS
from evaluations.persona_models import Delivery, Forbidden, PersonaVersion

LINES_HELP = "One per line."


def _lines(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def _textarea(rows: int = 3) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


class PersonaContentForm(forms.Form):
    delivery = forms.ChoiceField(
        choices=Delivery.choices, initial=Delivery.PROMPT,
        help_text="Where the persona lives. Overlay: a fine-tuned base model plus a short system "
        "prompt per variation (seed 000's hybrid approach).",
    )  # fmt: skip
    traits = forms.CharField(required=False, widget=_textarea(4), help_text=LINES_HELP)
    vocabulary_use = forms.CharField(
        label="Vocabulary to use", required=False, widget=_textarea(),
        help_text="One phrase per line; every reply should use at least one.",
    )  # fmt: skip
    vocabulary_avoid = forms.CharField(
        label="Vocabulary to avoid", required=False, widget=_textarea(), help_text=LINES_HELP
    )
    avoid_generic_ai_phrases = forms.BooleanField(
        label="Avoid generic AI phrases", required=False, initial=True,
        help_text="“As an AI…”, “Here's what I can help with…”",
    )  # fmt: skip
    response_pattern = forms.CharField(
        label="Response pattern checks", required=False, widget=_textarea(),
        help_text="One per line: KIND or KIND: VALUE. Kinds: " + ", ".join(PATTERN_CHECKS) + ".",
    )  # fmt: skip
    forbidden = forms.MultipleChoiceField(
        label="Forbidden behaviours", choices=Forbidden.choices, required=False,
        widget=forms.CheckboxSelectMultiple,
    )  # fmt: skip
    threshold = forms.FloatField(
        initial=IN_PERSONA_THRESHOLD, help_text="Adherence from which a reply counts as in persona."
    )
    base_model = forms.CharField(
        label="Base model", required=False, max_length=200,
        help_text="The fine-tuned model that carries the persona (fine-tune and overlay).",
    )  # fmt: skip
    overlays = forms.CharField(
        required=False,
        widget=forms.Textarea(attrs={"rows": 4, "spellcheck": "false", "class": "code"}),
        help_text='JSON: [{"name": "marketing", "system_prompt": "Focus on campaigns.", '
        '"vocabulary_use": ["campaign"]}]',
    )

    def clean_overlays(self):
        text = self.cleaned_data["overlays"].strip()
        if not text:
            return []
        try:
            return json.loads(text)
        except ValueError as error:
            raise forms.ValidationError(f"Not JSON: {error}.") from None

    def content(self) -> dict:
        """The form as the API's persona content (for its serializer to check)."""
        data = self.cleaned_data
        return {
            "delivery": data["delivery"],
            "traits": _lines(data["traits"]),
            "vocabulary_use": _lines(data["vocabulary_use"]),
            "vocabulary_avoid": _lines(data["vocabulary_avoid"]),
            "avoid_generic_ai_phrases": data["avoid_generic_ai_phrases"],
            "response_pattern": [_pattern(line) for line in _lines(data["response_pattern"])],
            "forbidden": list(data["forbidden"]),
            "threshold": data["threshold"],
            "base_model": data["base_model"],
            "overlays": data["overlays"],
        }

    @classmethod
    def initial_from(cls, version: PersonaVersion) -> dict:
        return {
            "delivery": version.delivery,
            "traits": "\n".join(version.traits),
            "vocabulary_use": "\n".join(version.vocabulary_use),
            "vocabulary_avoid": "\n".join(version.vocabulary_avoid),
            "avoid_generic_ai_phrases": version.avoid_generic_ai_phrases,
            "response_pattern": "\n".join(
                p["kind"] if p.get("value") is None else f"{p['kind']}: {p['value']}"
                for p in version.response_pattern
            ),
            "forbidden": version.forbidden,
            "threshold": version.threshold,
            "base_model": version.base_model,
            "overlays": json.dumps(version.overlays, indent=2) if version.overlays else "",
        }


def _pattern(line: str) -> dict:
    kind, _, value = line.partition(":")
    value = value.strip()
    if not value:
        return {"kind": kind.strip()}
    return {"kind": kind.strip(), "value": int(value) if value.isdigit() else value}


class PersonaForm(PersonaContentForm):
    slug = forms.SlugField(max_length=100, help_text="Used in the API: /api/v1/personas/SLUG.")
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, max_length=10_000, widget=_textarea(2))
    prompt = forms.ChoiceField(
        label="Prompt template", required=False, help_text="The prompt that carries the persona."
    )
    commit_message = forms.CharField(label="Commit message", required=False, max_length=500)

    field_order = ["slug", "name", "description", "prompt"]

    def __init__(self, *args, prompts=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["prompt"].choices = [("", "—"), *((p.slug, p.name) for p in prompts)]


class PersonaVersionForm(PersonaContentForm):
    commit_message = forms.CharField(label="Commit message", required=False, max_length=500)


class ScoreForm(forms.Form):
    response = forms.CharField(label="A reply to score", widget=_textarea(4), strip=False)
    system_prompt = forms.CharField(
        label="The candidate's system prompt (for the leak check)", required=False,
        widget=_textarea(3), strip=False,
    )  # fmt: skip
    overlay = forms.ChoiceField(required=False)

    def __init__(self, *args, overlays=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["overlay"].choices = [("", "—"), *((name, name) for name in overlays)]
