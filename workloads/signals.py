"""What the workloads app announces; apps to its right connect in their AppConfig.ready()."""

from django.dispatch import Signal

# Sent inside the transaction that stores an assessment with a recommendation, with
# `assessment` (a workloads.models.Assessment).
workload_assessed = Signal()
