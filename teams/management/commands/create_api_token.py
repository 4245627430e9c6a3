from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from teams.models import Scope, Team
from teams.services import api_token_create, describe


class Command(BaseCommand):
    help = "Create an API token for a team and print it once (only its hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="team slug")
        parser.add_argument("--name", required=True)
        parser.add_argument(
            "--scope",
            action="append",
            required=True,
            dest="scopes",
            help=f"repeatable; one of: {', '.join(Scope.values)}",
        )

    def handle(self, *args, team: str, name: str, scopes: list[str], **options):
        team_obj = Team.objects.filter(slug=team).first()
        if team_obj is None:
            raise CommandError(f"No team with slug '{team}'.")
        try:
            _, raw = api_token_create(team=team_obj, name=name, scopes=scopes)
        except ValidationError as exc:
            raise CommandError(describe(exc)) from None
        self.stdout.write(raw)
