"""The form of the fine-tune prepare page: field types and the team's choices only; the API's
serializer (`FineTuneCreateSerializer`) checks the values, so both speak one rule set."""

from __future__ import annotations

from django import forms

from evaluations.finetune_models import FineTuneJob, SystemPrompt
from evaluations.models import Dataset, Provider
from evaluations.services.finetunes import DEFAULT_HYPERPARAMETERS
from prompts.models import PromptLabel
from prompts.selectors import recent_versions


def workload_model():
    # The workloads app sits to the right: its model is reached through our string foreign key.
    return FineTuneJob._meta.get_field("workload").related_model


def _version_choices(team) -> list[tuple[str, str]]:
    labels: dict[int, list[str]] = {}
    for version_id, label in PromptLabel.objects.for_team(team).values_list("version_id", "label"):
        labels.setdefault(version_id, []).append(label)
    choices = []
    for version in recent_versions(team=team):
        names = sorted(labels.get(version.pk, []))
        suffix = f" ({', '.join(names)})" if names else ""
        choices.append((f"{version.template.slug}:{version.number}",
                        f"{version.template.slug} v{version.number}{suffix}"))  # fmt: skip
    return choices


class FineTuneForm(forms.Form):
    dataset = forms.ChoiceField(help_text="Its train split is the training file, its validation "
                                "split (if any) the validation file.")  # fmt: skip
    prompt_version = forms.ChoiceField(label="Prompt version",
                                       help_text="Renders every example's messages.")  # fmt: skip
    system_prompt = forms.ChoiceField(
        choices=SystemPrompt.choices, initial=SystemPrompt.MINIMAL, label="System prompt",
        help_text="A fine-tuned model needs little prompting: minimal keeps the first sentence "
        "and drops the few-shot examples.",
    )  # fmt: skip
    provider = forms.ChoiceField()
    base_model = forms.CharField(max_length=200, label="Base model",
                                 help_text="e.g. gpt-4o-mini-2024-07-18; demo-prompted on the "
                                 "demo endpoint.")  # fmt: skip
    n_epochs = forms.IntegerField(label="Epochs", initial=DEFAULT_HYPERPARAMETERS["n_epochs"])
    batch_size = forms.IntegerField(label="Batch size",
                                    initial=DEFAULT_HYPERPARAMETERS["batch_size"])  # fmt: skip
    learning_rate_multiplier = forms.DecimalField(
        label="Learning-rate multiplier", decimal_places=3, max_digits=6,
        initial=DEFAULT_HYPERPARAMETERS["learning_rate_multiplier"],
        widget=forms.TextInput(attrs={"inputmode": "decimal"}),
    )  # fmt: skip
    workload = forms.ChoiceField(required=False, help_text="Its training cost becomes this "
                                 "job's actual cost when the job succeeds.")  # fmt: skip
    leakage_override_reason = forms.CharField(
        required=False, label="Reason to fine-tune despite leakage", max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Only needed when the dataset fails the leakage check; it is recorded.",
    )  # fmt: skip

    def __init__(self, *args, team, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["dataset"].choices = [
            (str(pk), name) for pk, name in Dataset.objects.for_team(team).values_list("pk", "name")
        ]
        self.fields["prompt_version"].choices = _version_choices(team)
        self.fields["provider"].choices = [
            (str(pk), name)
            for pk, name in Provider.objects.for_team(team).values_list("pk", "name")
        ]
        workloads = workload_model().objects.filter(team=team).values_list("slug", "name")
        self.fields["workload"].choices = [("", "— none —"), *workloads]

    def serializer_data(self) -> dict:
        """The cleaned fields as the API's create body."""
        data = self.cleaned_data
        slug, number = data["prompt_version"].rsplit(":", 1)
        return {
            "dataset": int(data["dataset"]),
            "prompt": {"slug": slug, "version": int(number)},
            "provider": int(data["provider"]),
            "base_model": data["base_model"],
            "system_prompt": data["system_prompt"],
            "hyperparameters": {
                "n_epochs": data["n_epochs"],
                "batch_size": data["batch_size"],
                "learning_rate_multiplier": float(data["learning_rate_multiplier"]),
            },
            "workload": data["workload"] or None,
            "leakage_override_reason": data["leakage_override_reason"],
        }
