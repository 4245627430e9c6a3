from __future__ import annotations

from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from decisions.models import DecisionStatus
from decisions.services import archives, imports
from teams.models import Team


class Command(BaseCommand):
    help = (
        "Import an ADR folder, a zip of one, or markdown files into a team's decision log "
        "(MADR 2/3/4, Log4brains, Nygard / adr-tools). Prints one line per file; exits 1 when "
        "a file failed or conflicts with a frozen record."
    )

    def add_arguments(self, parser):
        parser.add_argument("--team", required=True, help="team slug")
        parser.add_argument(
            "paths", nargs="+", metavar="PATH", help="a folder, a .zip or .md files"
        )
        parser.add_argument(
            "--default-status",
            default=DecisionStatus.ACCEPTED,
            choices=DecisionStatus.values,
            help="the status of a file that has none (default: accepted, as Log4brains reads it)",
        )

    def handle(self, *args, team: str, paths: list[str], default_status: str, **options):
        team_obj = Team.objects.filter(slug=team).first()
        if team_obj is None:
            raise CommandError(f"No team with slug '{team}'.")
        try:
            files = archives.upload_files(_read(paths))
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from None
        results = imports.decisions_import(
            team=team_obj, author=None, files=files, default_status=default_status
        )
        for result in results:
            line = f"{result.status:9} {result.filename}: {result.message}"
            self.stdout.write(line + "".join(f"\n          - {note}" for note in result.notes))
        failed = [r for r in results if r.status in ("error", "conflict")]
        if failed:
            raise CommandError(f"{len(failed)} of {len(results)} files were not imported.")


def _read(paths: list[str]) -> list[tuple[str, bytes]]:
    """(name relative to the folder given, bytes) of every file under the paths."""
    found: list[tuple[str, bytes]] = []
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            for file in sorted(p for p in path.rglob("*") if p.is_file()):
                relative = file.relative_to(path)
                if not any(part.startswith(".") for part in relative.parts):
                    found.append((relative.as_posix(), _bytes(file)))
        elif path.is_file():
            found.append((path.name, _bytes(path)))
        else:
            raise CommandError(f"{raw}: no such file or folder.")
    return found


def _bytes(path: Path) -> bytes:
    if path.stat().st_size > archives.MAX_IMPORT_BYTES:
        raise CommandError(f"{path}: larger than {archives.MAX_IMPORT_BYTES // 2**20} MiB.")
    return path.read_bytes()
