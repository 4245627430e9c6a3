from __future__ import annotations

from importlib import import_module

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from teams.models import Membership, Role, Team
from teams.services import team_create

DEMO_APPS = ("teams", "prompts", "evaluations", "workloads", "decisions")


class Command(BaseCommand):
    help = (
        "Create (idempotently) the demo team and the demo/demo user, then let each app add its "
        "demo data through its `demo.seed(team, user)` function."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--force", action="store_true", help="allow the demo/demo login with DEBUG off"
        )

    def handle(self, *args, force: bool, **options):
        if not settings.DEBUG and not force:
            raise CommandError("seed_demo creates a demo/demo login: it needs DEBUG on or --force.")
        User = get_user_model()
        with transaction.atomic():
            user, created = User.objects.get_or_create(
                username="demo", defaults={"email": "demo@example.com"}
            )
            if created:
                user.set_password("demo")
                user.save()
            team = Team.objects.filter(slug="demo").first() or team_create(
                slug="demo", name="Demo", admin=user
            )
            Membership.objects.get_or_create(team=team, user=user, defaults={"role": Role.ADMIN})
        for app in DEMO_APPS:
            try:
                module = import_module(f"{app}.demo")
            except ModuleNotFoundError:
                continue
            with transaction.atomic():
                module.seed(team, user)
        self.stdout.write("Demo data ready: team 'demo', login demo / demo.")
