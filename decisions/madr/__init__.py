"""Decision records as markdown files: reading MADR 2/3/4, Log4brains and Nygard / adr-tools
files, and writing them back in three flavors (madr4, nygard, log4brains). Pure Python (no
Django): `reading` maps files to records, `writing` records to files, `markdown` is the
CommonMark and front-matter layer, `vocabulary` the words of statuses and relations, `names`
the file names."""

from decisions.madr.markdown import MadrError
from decisions.madr.names import (
    FLAVORS,
    base_name,
    code,
    export_name,
    export_names,
    filename,
    is_record_filename,
    slug,
)
from decisions.madr.reading import Ref, parse_record
from decisions.madr.vocabulary import STATUSES
from decisions.madr.writing import export_index, export_record

ARGUMENT_KINDS = ("good", "neutral", "bad")

__all__ = [
    "ARGUMENT_KINDS",
    "FLAVORS",
    "STATUSES",
    "MadrError",
    "Ref",
    "base_name",
    "code",
    "export_index",
    "export_name",
    "export_names",
    "export_record",
    "filename",
    "is_record_filename",
    "parse_record",
    "slug",
]
