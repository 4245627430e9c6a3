"""What the teams app announces; apps to its right connect in their AppConfig.ready()."""

from __future__ import annotations

from django.dispatch import Signal

# A team was created (kwargs: team), inside the creating transaction: apps add its defaults.
team_created = Signal()
