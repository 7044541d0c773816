"""Each building's map point, never null: one indexed column for bbox searches of units."""

import django.contrib.gis.db.models.fields
import django.contrib.postgres.indexes
from django.db import migrations

# Before each insert or update of a building (Django writes every column, so always), and after
# an estate's entrance moves (for its buildings without a footprint).
SQL = """
CREATE FUNCTION geo_building_set_map_point() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.map_point := coalesce(
        ST_PointOnSurface(NEW.footprint),
        (SELECT e.location FROM geo_estate e WHERE e.id = NEW.estate_id));
    RETURN NEW;
END $$;

CREATE FUNCTION geo_estate_move_map_points() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE geo_building SET map_point = NEW.location
     WHERE estate_id = NEW.id AND footprint IS NULL;
    RETURN NULL;
END $$;

CREATE TRIGGER geo_building_map_point BEFORE INSERT OR UPDATE ON geo_building
    FOR EACH ROW EXECUTE FUNCTION geo_building_set_map_point();
CREATE TRIGGER geo_estate_map_points AFTER UPDATE OF location ON geo_estate
    FOR EACH ROW WHEN (OLD.location IS DISTINCT FROM NEW.location)
    EXECUTE FUNCTION geo_estate_move_map_points();

UPDATE geo_building SET map_point = NULL;
ALTER TABLE geo_building ALTER COLUMN map_point SET NOT NULL;
"""

UNDO = """
ALTER TABLE geo_building ALTER COLUMN map_point DROP NOT NULL;
DROP TRIGGER IF EXISTS geo_building_map_point ON geo_building;
DROP TRIGGER IF EXISTS geo_estate_map_points ON geo_estate;
DROP FUNCTION IF EXISTS geo_building_set_map_point();
DROP FUNCTION IF EXISTS geo_estate_move_map_points();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0006_estate_stock_summary"),
    ]

    operations = [
        migrations.AddField(
            model_name="building",
            name="map_point",
            field=django.contrib.gis.db.models.fields.PointField(
                editable=False, null=True, spatial_index=False, srid=4326, verbose_name="地图位置"
            ),
        ),
        migrations.AddIndex(
            model_name="building",
            index=django.contrib.postgres.indexes.GistIndex(
                fields=["map_point"], name="building_map_point_idx"
            ),
        ),
        migrations.RunSQL(SQL, UNDO),
    ]
