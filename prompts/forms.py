"""Page forms. They turn what was typed into the API's shapes; the API serializers validate it
(one set of rules for pages and API), and their errors are shown next to the inputs."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from django import forms

from prompts.models import PromptTemplate, PromptVersion
from teams.api.errors import flatten_errors

MAX_EDITOR_ROWS = 200


def split_list(text: str) -> list[str]:
    return [part.strip() for part in text.replace("\n", ",").split(",") if part.strip()]


def serializer_errors(serializer) -> dict[str, list[str]]:
    """`{"messages[0].content": ["…"], "": ["…"]}` from a serializer's errors."""
    found: dict[str, list[str]] = {}
    for item in flatten_errors(serializer.errors):
        found.setdefault(item["field"] or "", []).append(item["message"])
    return found


class TemplateForm(forms.Form):
    slug = forms.CharField(
        max_length=100, help_text="Used in the API: lowercase letters, digits and hyphens."
    )
    name = forms.CharField(max_length=200)
    description = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    tags = forms.CharField(required=False, help_text="Comma-separated, e.g. support, json.")
    protected_labels = forms.CharField(
        required=False,
        label="Protected labels",
        help_text="Only admins move these (comma-separated), e.g. production.",
    )
    gate_enabled = forms.BooleanField(required=False, label="Promotion gate for production")
    gate_metric = forms.CharField(
        required=False, max_length=100, label="Gate metric", help_text="e.g. accuracy"
    )
    gate_margin = forms.FloatField(
        required=False, label="Gate margin", initial=0.0, help_text="e.g. 0.02 (2 points)"
    )

    def __init__(self, *args, editing: bool = False, can_protect: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["slug"]
        if not can_protect:
            self.fields["protected_labels"].disabled = True
            self.fields["protected_labels"].help_text = "Only team admins change these."

    @classmethod
    def initial_for(cls, template: PromptTemplate) -> dict[str, Any]:
        return {
            "name": template.name,
            "description": template.description,
            "tags": ", ".join(template.tags),
            "protected_labels": ", ".join(template.protected_labels),
            "gate_enabled": template.gate_enabled,
            "gate_metric": template.gate_metric,
            "gate_margin": template.gate_margin,
        }

    def api_data(self) -> dict[str, Any]:
        data = self.cleaned_data
        out = {
            "name": data["name"],
            "description": data["description"],
            "tags": split_list(data["tags"]),
            "gate": {
                "enabled": data["gate_enabled"],
                "metric": data["gate_metric"],
                "margin": data["gate_margin"] or 0.0,
            },
        }
        if "slug" in data:
            out["slug"] = data["slug"]
        if not self.fields["protected_labels"].disabled:
            out["protected_labels"] = split_list(data["protected_labels"])
        return out

    def add_serializer_errors(self, errors: dict[str, list[str]]) -> None:
        for path, messages in errors.items():
            name = path.split("[")[0].split(".")[0]
            name = {"gate": "gate_" + path.split(".")[-1]}.get(name, name)
            for message in messages:
                self.add_error(name if name in self.fields else None, message)


class LabelMoveForm(forms.Form):
    label = forms.CharField(max_length=50)
    version = forms.IntegerField(min_value=1)
    note = forms.CharField(max_length=500, required=False)


class ImportForm(forms.Form):
    file = forms.FileField(help_text="A .json file exported from a prompt's page.")
    slug = forms.CharField(
        max_length=100, required=False, help_text="Import under another slug (optional)."
    )


# The version editor ----------------------------------------------------------------------------

RESPONSE_FORMATS = (("", "Not set"), ("text", "text"), ("json_object", "json_object"),
                    ("json_schema", "json_schema"))  # fmt: skip


def _json_text(value: Any) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False) if value not in (None, {}) else ""


@dataclass
class Editor:
    """The new-version form: rows of messages and examples, added and removed by plain
    submit buttons (no script), turned into the API's version body by `api_data`."""

    kind: str = "chat"
    model: str = "gpt-4o-mini"
    messages: list[dict[str, str]] = field(default_factory=list)
    text: str = ""
    examples: list[dict[str, str]] = field(default_factory=list)
    temperature: str = ""
    top_p: str = ""
    max_tokens: str = ""
    response_format: str = ""
    schema_name: str = ""
    schema: str = ""
    extra_config: str = ""
    commit_message: str = ""

    @classmethod
    def blank(cls) -> Editor:
        return cls(messages=[_message("system", ""), _message("user", "")])

    @classmethod
    def from_version(cls, version: PromptVersion) -> Editor:
        config = dict(version.config)
        response_format = config.pop("response_format", None) or {}
        schema = response_format.get("json_schema") or {}
        return cls(
            kind=version.kind,
            model=version.model,
            messages=[
                {"type": "placeholder", "role": "", "content": "", "name": m["name"]}
                if m.get("type") == "placeholder"
                else _message(m["role"], m["content"])
                for m in version.messages
            ],  # fmt: skip
            text=version.text,
            examples=[dict(example) for example in version.few_shot],
            temperature=_plain(config.pop("temperature", "")),
            top_p=_plain(config.pop("top_p", "")),
            max_tokens=_plain(config.pop("max_tokens", "")),
            response_format=response_format.get("type", ""),
            schema_name=schema.get("name", ""),
            schema=_json_text(schema.get("schema")),
            extra_config=_json_text(config),
        )

    @classmethod
    def from_post(cls, post) -> Editor:
        messages = [
            {
                "type": post.get(f"message-{i}-type", "message"),
                "role": post.get(f"message-{i}-role", "user"),
                "content": post.get(f"message-{i}-content", ""),
                "name": post.get(f"message-{i}-name", "").strip(),
            }
            for i in range(_count(post, "message_count"))
        ]
        examples = [
            {
                "input": post.get(f"example-{i}-input", ""),
                "output": post.get(f"example-{i}-output", ""),
            }
            for i in range(_count(post, "example_count"))
        ]
        return cls(
            kind=post.get("kind", "chat"),
            model=post.get("model", "").strip(),
            messages=messages,
            text=post.get("text", ""),
            examples=examples,
            temperature=post.get("temperature", "").strip(),
            top_p=post.get("top_p", "").strip(),
            max_tokens=post.get("max_tokens", "").strip(),
            response_format=post.get("response_format", ""),
            schema_name=post.get("schema_name", "").strip(),
            schema=post.get("schema", ""),
            extra_config=post.get("extra_config", ""),
            commit_message=post.get("commit_message", ""),
        )

    def apply(self, action: str) -> str:
        """Add or remove a row; returns the id of the input to focus."""
        verb, _, index = action.partition(":")
        at = int(index) if index.isdigit() else -1
        if verb == "add-message" and len(self.messages) < MAX_EDITOR_ROWS:
            self.messages.append(_message("user", ""))
            return f"message-{len(self.messages) - 1}-content"
        if verb == "add-placeholder" and len(self.messages) < MAX_EDITOR_ROWS:
            self.messages.append({"type": "placeholder", "role": "", "content": "",
                                  "name": "history"})  # fmt: skip
            return f"message-{len(self.messages) - 1}-name"
        if verb == "remove-message" and 0 <= at < len(self.messages):
            self.messages.pop(at)
        elif verb == "add-example" and len(self.examples) < MAX_EDITOR_ROWS:
            self.examples.append({"input": "", "output": ""})
            return f"example-{len(self.examples) - 1}-input"
        elif verb == "remove-example" and 0 <= at < len(self.examples):
            self.examples.pop(at)
        elif verb == "kind" and index in ("chat", "text"):
            self.kind = index
            if index == "chat" and not self.messages:
                self.messages = [_message("system", self.text)]
            elif index == "text" and not self.text:
                self.text = "\n\n".join(m["content"] for m in self.messages if m["content"])
            return "id_text" if index == "text" else "message-0-content"
        return ""

    def api_data(self) -> tuple[dict[str, Any], dict[str, list[str]]]:
        """The version body for PromptVersionWriteSerializer, and errors of inputs that are not even
        JSON or numbers (keyed like the serializer's)."""
        errors: dict[str, list[str]] = {}
        config: dict[str, Any] = {}
        extra = self._json("extra_config", self.extra_config, errors)
        if isinstance(extra, dict):
            config.update(extra)
        elif extra is not None:
            errors["config"] = ["Other settings must be a JSON object."]
        for name in ("temperature", "top_p", "max_tokens"):
            value = _number(getattr(self, name), name, errors)
            if value is not None:
                config[name] = value
        if self.response_format:
            fmt: dict[str, Any] = {"type": self.response_format}
            if self.response_format == "json_schema":
                where = "config.response_format.json_schema.schema"
                schema = self._json(where, self.schema, errors)
                fmt["json_schema"] = {"name": self.schema_name or "output", "schema": schema or {}}
            config["response_format"] = fmt
        data: dict[str, Any] = {
            "kind": self.kind,
            "model": self.model,
            "config": config,
            "few_shot": self.examples,
            "commit_message": self.commit_message,
        }
        if self.kind == "text":
            data["text"] = self.text
        else:
            data["messages"] = [
                {"type": "placeholder", "name": m["name"]}
                if m["type"] == "placeholder" else {"role": m["role"], "content": m["content"]}
                for m in self.messages
            ]  # fmt: skip
        return data, errors

    @staticmethod
    def _json(field_name: str, raw: str, errors: dict[str, list[str]]) -> Any:
        if not raw.strip():
            return None
        try:
            return json.loads(raw)
        except ValueError as exc:
            errors[field_name] = [f"Not valid JSON: {exc}"]
            return None


def _message(role: str, content: str) -> dict[str, str]:
    return {"type": "message", "role": role, "content": content, "name": ""}


def _plain(value: Any) -> str:
    return "" if value in ("", None) else str(value)


def _number(raw: str, name: str, errors: dict[str, list[str]]) -> int | float | None:
    if not raw:
        return None
    try:
        return int(raw) if name == "max_tokens" else float(raw)
    except ValueError:
        errors[f"config.{name}"] = ["Enter a number."]
        return None


def _count(post, name: str) -> int:
    value = post.get(name, "0")
    return min(int(value), MAX_EDITOR_ROWS) if value.isdigit() else 0
