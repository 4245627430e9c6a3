"""What the prompts app announces; apps to its right connect in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# A label of a template now points at another version, sent once the move has committed.
# kwargs: template (PromptTemplate), label (str), from_version (PromptVersion | None),
# to_version (PromptVersion), move (PromptLabelMove). A workload linked to the template
# re-assesses itself when `label` is "production": its prompt overhead may have changed.
prompt_label_moved = Signal()
