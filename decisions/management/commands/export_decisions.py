from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from decisions import madr
from decisions.services import exports
from teams.models import Team


class Command(BaseCommand):
    help = (
        "Export a team's decision records as markdown files of one flavor (madr4, nygard for "
        "adr-tools, log4brains), with an index.md: into a folder, or into a .zip when PATH "
        "ends in .zip. Files of the folder that are not in the export are left alone."
    )

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="team slug")
        parser.add_argument("--format", default="madr4", choices=madr.FLAVORS, dest="flavor")
        parser.add_argument("path", metavar="PATH", help="a folder, or a file name ending .zip")

    def handle(self, *args, team: str, flavor: str, path: str, **options):
        team_obj = Team.objects.filter(slug=team).first()
        if team_obj is None:
            raise CommandError(f"No team with slug '{team}'.")
        target = Path(path)
        if target.suffix.lower() == ".zip":
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(exports.decisions_export_zip(team=team_obj, flavor=flavor))
            self.stdout.write(f"wrote {target}")
            return
        if target.exists() and not target.is_dir():
            raise CommandError(f"{target} is a file: give a folder, or a name ending .zip.")
        target.mkdir(parents=True, exist_ok=True)
        files = exports.decisions_export_files(team=team_obj, flavor=flavor)
        for name, text in files.items():
            (target / name).write_text(text, encoding="utf-8")
        self.stdout.write(f"wrote {len(files)} files to {target}")
