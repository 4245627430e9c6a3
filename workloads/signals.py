"""What the workloads app announces; apps to its right connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent inside the transaction that stores a batch of assessments, with `assessments` (a list of
# workloads.models.Assessment of distinct workloads, each with a recommendation).
workloads_assessed = Signal()
