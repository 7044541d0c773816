"""A summary of units per estate kept current by triggers, for the public pages and the
vacancy dashboards."""

import django.db.models.deletion
from django.db import migrations, models

# Every path that changes units (services, imports, bulk updates, raw SQL) goes through these
# statement-level triggers: the estates touched are recomputed from their units, after locking
# their summary rows so that two writers of one estate cannot overwrite each other's counts.
REFRESH = """
CREATE FUNCTION geo_refresh_estate_summary(estate_ids bigint[]) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
    IF estate_ids IS NULL OR cardinality(estate_ids) = 0 THEN
        RETURN;
    END IF;
    INSERT INTO geo_estatestocksummary (estate_id)
    SELECT e.id FROM geo_estate e WHERE e.id = ANY(estate_ids)
    ON CONFLICT DO NOTHING;
    PERFORM 1 FROM geo_estatestocksummary
     WHERE estate_id = ANY(estate_ids) ORDER BY estate_id FOR UPDATE;
    UPDATE geo_estatestocksummary s SET
        units = coalesce(a.units, 0),
        vacant = coalesce(a.vacant, 0),
        offered = coalesce(a.offered, 0),
        occupied = coalesce(a.occupied, 0),
        repair = coalesce(a.repair, 0),
        withheld = coalesce(a.withheld, 0),
        vacant_rooms_1 = coalesce(a.rooms_1, 0),
        vacant_rooms_2 = coalesce(a.rooms_2, 0),
        vacant_rooms_3plus = coalesce(a.rooms_3plus, 0),
        area_min = a.area_min, area_max = a.area_max,
        rent_min = a.rent_min, rent_max = a.rent_max,
        vacant_rent_min = a.vacant_rent_min, vacant_rent_max = a.vacant_rent_max,
        vacant_layouts = coalesce(a.layouts, '[]'::jsonb)
    FROM (SELECT id FROM unnest(estate_ids) AS id) AS touched
    LEFT JOIN (
        SELECT b.estate_id,
               count(*) AS units,
               count(*) FILTER (WHERE u.status = 'vacant') AS vacant,
               count(*) FILTER (WHERE u.status = 'offered') AS offered,
               count(*) FILTER (WHERE u.status = 'occupied') AS occupied,
               count(*) FILTER (WHERE u.status = 'repair') AS repair,
               count(*) FILTER (WHERE u.status = 'withheld') AS withheld,
               count(*) FILTER (WHERE u.status = 'vacant' AND u.rooms = 1) AS rooms_1,
               count(*) FILTER (WHERE u.status = 'vacant' AND u.rooms = 2) AS rooms_2,
               count(*) FILTER (WHERE u.status = 'vacant' AND u.rooms >= 3) AS rooms_3plus,
               min(u.area) AS area_min, max(u.area) AS area_max,
               min(u.monthly_rent) AS rent_min, max(u.monthly_rent) AS rent_max,
               min(u.monthly_rent) FILTER (WHERE u.status = 'vacant') AS vacant_rent_min,
               max(u.monthly_rent) FILTER (WHERE u.status = 'vacant') AS vacant_rent_max,
               jsonb_agg(DISTINCT jsonb_build_array(u.rooms, u.halls, u.baths))
                   FILTER (WHERE u.status = 'vacant') AS layouts
          FROM geo_unit u JOIN geo_building b ON b.id = u.building_id
         WHERE b.estate_id = ANY(estate_ids)
         GROUP BY b.estate_id
    ) AS a ON a.estate_id = touched.id
    WHERE s.estate_id = touched.id;
END $$;

CREATE FUNCTION geo_unit_summary_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_refresh_estate_summary(ARRAY(
        SELECT DISTINCT b.estate_id FROM new_units n JOIN geo_building b ON b.id = n.building_id));
    RETURN NULL;
END $$;

CREATE FUNCTION geo_unit_summary_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_refresh_estate_summary(ARRAY(
        SELECT DISTINCT b.estate_id FROM old_units o JOIN geo_building b ON b.id = o.building_id));
    RETURN NULL;
END $$;

-- Only rows whose summarised columns changed count: touching updated_at costs nothing.
CREATE FUNCTION geo_unit_summary_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_refresh_estate_summary(ARRAY(
        SELECT DISTINCT b.estate_id
          FROM new_units n JOIN old_units o ON o.id = n.id
          JOIN geo_building b ON b.id IN (n.building_id, o.building_id)
         WHERE (n.status, n.rooms, n.halls, n.baths, n.area, n.monthly_rent, n.building_id)
               IS DISTINCT FROM
               (o.status, o.rooms, o.halls, o.baths, o.area, o.monthly_rent, o.building_id)));
    RETURN NULL;
END $$;

CREATE FUNCTION geo_building_summary_moved() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_refresh_estate_summary(ARRAY(
        SELECT DISTINCT x FROM new_buildings n JOIN old_buildings o ON o.id = n.id,
               LATERAL (VALUES (n.estate_id), (o.estate_id)) AS v(x)
         WHERE n.estate_id <> o.estate_id));
    RETURN NULL;
END $$;

CREATE FUNCTION geo_estate_summary_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    DELETE FROM geo_estatestocksummary s USING old_estates o WHERE s.estate_id = o.id;
    RETURN NULL;
END $$;

CREATE TRIGGER geo_unit_summary_ins AFTER INSERT ON geo_unit
    REFERENCING NEW TABLE AS new_units
    FOR EACH STATEMENT EXECUTE FUNCTION geo_unit_summary_inserted();
CREATE TRIGGER geo_unit_summary_del AFTER DELETE ON geo_unit
    REFERENCING OLD TABLE AS old_units
    FOR EACH STATEMENT EXECUTE FUNCTION geo_unit_summary_deleted();
CREATE TRIGGER geo_unit_summary_upd AFTER UPDATE ON geo_unit
    REFERENCING OLD TABLE AS old_units NEW TABLE AS new_units
    FOR EACH STATEMENT EXECUTE FUNCTION geo_unit_summary_updated();
CREATE TRIGGER geo_building_summary_upd AFTER UPDATE ON geo_building
    REFERENCING OLD TABLE AS old_buildings NEW TABLE AS new_buildings
    FOR EACH STATEMENT EXECUTE FUNCTION geo_building_summary_moved();
CREATE TRIGGER geo_estate_summary_del AFTER DELETE ON geo_estate
    REFERENCING OLD TABLE AS old_estates
    FOR EACH STATEMENT EXECUTE FUNCTION geo_estate_summary_deleted();

SELECT geo_refresh_estate_summary(ARRAY(SELECT id FROM geo_estate));
"""

UNDO = """
DROP TRIGGER IF EXISTS geo_unit_summary_ins ON geo_unit;
DROP TRIGGER IF EXISTS geo_unit_summary_del ON geo_unit;
DROP TRIGGER IF EXISTS geo_unit_summary_upd ON geo_unit;
DROP TRIGGER IF EXISTS geo_building_summary_upd ON geo_building;
DROP TRIGGER IF EXISTS geo_estate_summary_del ON geo_estate;
DROP FUNCTION IF EXISTS geo_unit_summary_inserted();
DROP FUNCTION IF EXISTS geo_unit_summary_deleted();
DROP FUNCTION IF EXISTS geo_unit_summary_updated();
DROP FUNCTION IF EXISTS geo_building_summary_moved();
DROP FUNCTION IF EXISTS geo_estate_summary_deleted();
DROP FUNCTION IF EXISTS geo_refresh_estate_summary(bigint[]);
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0005_stock_version"),
    ]

    operations = [
        migrations.CreateModel(
            name="EstateStockSummary",
            fields=[
                (
                    "estate",
                    models.OneToOneField(
                        db_constraint=False,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        primary_key=True,
                        related_name="stock_summary",
                        serialize=False,
                        to="geo.estate",
                        verbose_name="项目",
                    ),
                ),
                (
                    "units",
                    models.PositiveIntegerField(db_default=0, default=0, verbose_name="房屋套数"),
                ),
                (
                    "vacant",
                    models.PositiveIntegerField(db_default=0, default=0, verbose_name="空置"),
                ),
                (
                    "offered",
                    models.PositiveIntegerField(
                        db_default=0, default=0, verbose_name="已配租待签约"
                    ),
                ),
                (
                    "occupied",
                    models.PositiveIntegerField(db_default=0, default=0, verbose_name="已入住"),
                ),
                (
                    "repair",
                    models.PositiveIntegerField(db_default=0, default=0, verbose_name="维修中"),
                ),
                (
                    "withheld",
                    models.PositiveIntegerField(db_default=0, default=0, verbose_name="暂不分配"),
                ),
                (
                    "vacant_rooms_1",
                    models.PositiveIntegerField(db_default=0, default=0, verbose_name="空置一室"),
                ),
                (
                    "vacant_rooms_2",
                    models.PositiveIntegerField(db_default=0, default=0, verbose_name="空置两室"),
                ),
                (
                    "vacant_rooms_3plus",
                    models.PositiveIntegerField(
                        db_default=0, default=0, verbose_name="空置三室及以上"
                    ),
                ),
                (
                    "area_min",
                    models.DecimalField(
                        decimal_places=2, max_digits=6, null=True, verbose_name="最小面积"
                    ),
                ),
                (
                    "area_max",
                    models.DecimalField(
                        decimal_places=2, max_digits=6, null=True, verbose_name="最大面积"
                    ),
                ),
                (
                    "rent_min",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, null=True, verbose_name="最低月租金"
                    ),
                ),
                (
                    "rent_max",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, null=True, verbose_name="最高月租金"
                    ),
                ),
                (
                    "vacant_rent_min",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, null=True, verbose_name="空置最低月租金"
                    ),
                ),
                (
                    "vacant_rent_max",
                    models.DecimalField(
                        decimal_places=2, max_digits=8, null=True, verbose_name="空置最高月租金"
                    ),
                ),
                (
                    "vacant_layouts",
                    models.JSONField(db_default=[], default=list, verbose_name="空置户型"),
                ),
            ],
            options={
                "verbose_name": "项目房源汇总",
                "verbose_name_plural": "项目房源汇总",
                "indexes": [
                    models.Index(
                        condition=models.Q(("vacant__gt", 0)),
                        fields=["vacant"],
                        name="summary_vacant_idx",
                    )
                ],
            },
        ),
        migrations.RunSQL(REFRESH, UNDO),
    ]
