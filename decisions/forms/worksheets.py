from __future__ import annotations

from django import forms

from decisions import roi
from decisions.forms.roi_fields import roi_form_field

# Attributes that make a model input offer the team's priced models.
MODEL_INPUT = {"list": "priced-models", "autocomplete": "off", "spellcheck": "false"}


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
    # The models whose prices the price inputs currently hold: a different model fills them.
    applied_model = forms.CharField(required=False, widget=forms.HiddenInput)
    applied_ft_model = forms.CharField(required=False, widget=forms.HiddenInput)
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

    def __init__(self, *args, workloads=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["workload"].choices = [
            ("", "— choose a workload —"),
            *((w.slug, w.name) for w in workloads),
        ]
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
