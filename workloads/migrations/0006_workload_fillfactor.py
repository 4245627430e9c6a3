"""Leave half of each page of the workload table free on PostgreSQL (fillfactor 50).

A workload's row is rewritten by every push that touches it (`usage_changed_at` and the claim
marker) and by the assessment that follows (the claim released). With full pages the new
version of a row went to another page: every index of the table was updated too, and the dead
versions stayed until a vacuum (1,000 workloads pushed 20 times and swept a few times: 150,000
dead versions, 147 MB for 11,000 rows, a count of one team's workloads 40 ms). With room on the
page the update is heap-only (none of those columns is indexed), needs no index entry, and the
page's dead versions are pruned the next time it is read, vacuum or not.

Pages written from now on follow the setting; `VACUUM FULL workloads_workload` repacks the
existing ones.
"""

from django.db import migrations

TABLE = "workloads_workload"


def roomy(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} SET (fillfactor = 50)")


def packed(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"ALTER TABLE {TABLE} RESET (fillfactor)")


class Migration(migrations.Migration):
    dependencies = [("workloads", "0005_usage_day")]

    operations = [migrations.RunPython(roomy, packed, elidable=False)]
