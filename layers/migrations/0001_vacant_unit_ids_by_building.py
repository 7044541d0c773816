"""The ids of each building's vacant units straight from an index (no table rows read).

OGC items with a bbox find the buildings in the box through their map point, then the vacant
units' ids per building; the page is the first ids after the last one served (keyset). With
this index that step reads about two index entries per building instead of every unit of it
(EXPLAIN ANALYZE at 1,000,000 units: 24 ms → 3.5 ms for a 0.04° box). The index is on a geo
table but only the layers' queries need it, so it is created here, in SQL.
"""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("geo", "0008_stock_version_from_sequence")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS unit_vacant_building_id_idx "
            "ON geo_unit (building_id, id) WHERE status = 'vacant'",
            reverse_sql="DROP INDEX IF EXISTS unit_vacant_building_id_idx",
        )
    ]
