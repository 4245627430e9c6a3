"""Keep each record's search vector inside its row (storage MAIN) on PostgreSQL.

A record's long text columns push its row past PostgreSQL's 2 kB TOAST threshold, and with the
default storage the vector was moved out of line with them: ranking or matching a search then
fetched every matching row's vector from the TOAST table (10,000 records: 56 ms for a page of a
search matching nearly all of them, 33 ms for its count). With MAIN the long texts go out of
line first and the vector stays in the row (17 ms and 11 ms). Existing rows are rewritten so
that their vectors are stored again (a stored generated column is recomputed on UPDATE).
"""

from django.db import migrations

TABLE = "decisions_decisionrecord"


def inline(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN search SET STORAGE MAIN")
    schema_editor.execute(f"UPDATE {TABLE} SET title = title")


def extended(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"ALTER TABLE {TABLE} ALTER COLUMN search SET STORAGE EXTENDED")


class Migration(migrations.Migration):
    dependencies = [("decisions", "0007_decision_exports")]

    operations = [migrations.RunPython(inline, extended, elidable=False)]
