from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from teams.services import describe, team_create


class Command(BaseCommand):
    help = "Create a team, optionally with an existing user as its first admin."

    def add_arguments(self, parser):
        parser.add_argument("slug")
        parser.add_argument("--name", default="")
        parser.add_argument("--admin", help="username of an existing user to make admin")

    def handle(self, *args, slug: str, name: str, admin: str | None, **options):
        user = None
        if admin:
            user = get_user_model().objects.filter(username=admin).first()
            if user is None:
                raise CommandError(f"No user named '{admin}'.")
        try:
            team = team_create(slug=slug, name=name, admin=user)
        except ValidationError as exc:
            raise CommandError(describe(exc)) from None
        self.stdout.write(f"Created team '{team.slug}'.")
