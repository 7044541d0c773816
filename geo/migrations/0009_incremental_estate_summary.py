"""The per-estate stock summary kept by deltas instead of recounts (issue 17).

The triggers of 0006 recounted every estate a statement touched, so a 10,000-unit bulk update
spread over 5,000 estates recounted all 1,000,000 units (3.4–4 s instead of 0.8 s). Now each
statement's transition tables become signed change rows (-1 for a unit's old values, +1 for its
new ones) and the summary is adjusted by them:
- counts add the sums of the signs;
- a minimum or maximum moves to an added value when that one is beyond it, stays when no removed
  value reached it, and only otherwise (the unit that held it changed) is the estate recounted;
- vacant layouts take the added ones; where the vacant unit holding the lowest or highest vacant
  rent changed, or a vacant layout left without coming back, just those vacant figures are
  taken again from the estate's vacant units (a partial index: a few per estate).
Estates whose summary row is new, and buildings moved between estates, are recounted as before.
"""

from django.db import migrations

FORWARD = """
CREATE TYPE geo_unit_change AS (
    estate_id bigint,
    sign integer,
    status varchar(10),
    rooms smallint,
    halls smallint,
    baths smallint,
    area numeric(6,2),
    rent numeric(8,2)
);

-- Whether the extreme `current` of an estate is lost: a removed value reached it and no added
-- value reaches it again. `lowest` picks minimum (true) or maximum (false).
CREATE FUNCTION geo_summary_extreme_lost(
    current numeric, added numeric, removed numeric, lowest boolean
) RETURNS boolean LANGUAGE sql IMMUTABLE AS $$
    SELECT removed IS NOT NULL AND NOT coalesce(
        CASE WHEN lowest THEN removed > current OR added <= current
             ELSE removed < current OR added >= current END, false)
$$;

-- Whether every layout in `more` is already in `have` (jsonb's @> would take [2,1,1] to hold
-- [1,2,1]: array containment ignores order and repeats).
CREATE FUNCTION geo_summary_layouts_cover(have jsonb, more jsonb) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
    SELECT NOT EXISTS (
        SELECT x FROM jsonb_array_elements(coalesce(more, '[]')) AS m(x)
        EXCEPT
        SELECT y FROM jsonb_array_elements(have) AS h(y))
$$;

CREATE FUNCTION geo_apply_unit_changes(changes geo_unit_change[]) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
    touched bigint[];
    recount bigint[];
    revacant bigint[];
BEGIN
    IF changes IS NULL OR cardinality(changes) = 0 THEN
        RETURN;
    END IF;
    touched := ARRAY(SELECT DISTINCT c.estate_id FROM unnest(changes) c);
    -- A summary row made now starts from a recount (its estate may have older units).
    WITH made AS (
        INSERT INTO geo_estatestocksummary (estate_id)
        SELECT e.id FROM geo_estate e WHERE e.id = ANY(touched)
        ON CONFLICT DO NOTHING
        RETURNING estate_id
    )
    SELECT coalesce(array_agg(estate_id), '{}') INTO recount FROM made;
    PERFORM 1 FROM geo_estatestocksummary
     WHERE estate_id = ANY(touched) ORDER BY estate_id FOR UPDATE;

    -- One statement: the lost extremes are judged on the rows as they were before its update.
    WITH d AS (
        SELECT c.estate_id,
               sum(c.sign) AS units,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'vacant'), 0) AS vacant,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'offered'), 0) AS offered,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'occupied'), 0) AS occupied,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'repair'), 0) AS repair,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'withheld'), 0) AS withheld,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'vacant' AND c.rooms = 1), 0)
                   AS rooms_1,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'vacant' AND c.rooms = 2), 0)
                   AS rooms_2,
               coalesce(sum(c.sign) FILTER (WHERE c.status = 'vacant' AND c.rooms >= 3), 0)
                   AS rooms_3plus,
               min(c.area) FILTER (WHERE c.sign > 0) AS add_area_min,
               max(c.area) FILTER (WHERE c.sign > 0) AS add_area_max,
               min(c.area) FILTER (WHERE c.sign < 0) AS del_area_min,
               max(c.area) FILTER (WHERE c.sign < 0) AS del_area_max,
               min(c.rent) FILTER (WHERE c.sign > 0) AS add_rent_min,
               max(c.rent) FILTER (WHERE c.sign > 0) AS add_rent_max,
               min(c.rent) FILTER (WHERE c.sign < 0) AS del_rent_min,
               max(c.rent) FILTER (WHERE c.sign < 0) AS del_rent_max,
               min(c.rent) FILTER (WHERE c.sign > 0 AND c.status = 'vacant') AS add_vrent_min,
               max(c.rent) FILTER (WHERE c.sign > 0 AND c.status = 'vacant') AS add_vrent_max,
               min(c.rent) FILTER (WHERE c.sign < 0 AND c.status = 'vacant') AS del_vrent_min,
               max(c.rent) FILTER (WHERE c.sign < 0 AND c.status = 'vacant') AS del_vrent_max,
               jsonb_agg(DISTINCT jsonb_build_array(c.rooms, c.halls, c.baths))
                   FILTER (WHERE c.sign > 0 AND c.status = 'vacant') AS add_layouts
          FROM unnest(changes) c
         GROUP BY c.estate_id
    ), lost AS (
        SELECT d.estate_id FROM d JOIN geo_estatestocksummary s ON s.estate_id = d.estate_id
         WHERE d.estate_id = ANY(recount)
            OR geo_summary_extreme_lost(s.area_min, d.add_area_min, d.del_area_min, true)
            OR geo_summary_extreme_lost(s.area_max, d.add_area_max, d.del_area_max, false)
            OR geo_summary_extreme_lost(s.rent_min, d.add_rent_min, d.del_rent_min, true)
            OR geo_summary_extreme_lost(s.rent_max, d.add_rent_max, d.del_rent_max, false)
    ), vacant_lost AS (
        SELECT d.estate_id FROM d JOIN geo_estatestocksummary s ON s.estate_id = d.estate_id
         WHERE geo_summary_extreme_lost(s.vacant_rent_min, d.add_vrent_min, d.del_vrent_min, true)
            OR geo_summary_extreme_lost(s.vacant_rent_max, d.add_vrent_max, d.del_vrent_max, false)
    ), adjusted AS (
        UPDATE geo_estatestocksummary s SET
            units = s.units + d.units,
            vacant = s.vacant + d.vacant,
            offered = s.offered + d.offered,
            occupied = s.occupied + d.occupied,
            repair = s.repair + d.repair,
            withheld = s.withheld + d.withheld,
            vacant_rooms_1 = s.vacant_rooms_1 + d.rooms_1,
            vacant_rooms_2 = s.vacant_rooms_2 + d.rooms_2,
            vacant_rooms_3plus = s.vacant_rooms_3plus + d.rooms_3plus,
            area_min = least(s.area_min, d.add_area_min),
            area_max = greatest(s.area_max, d.add_area_max),
            rent_min = least(s.rent_min, d.add_rent_min),
            rent_max = greatest(s.rent_max, d.add_rent_max),
            vacant_rent_min = least(s.vacant_rent_min, d.add_vrent_min),
            vacant_rent_max = greatest(s.vacant_rent_max, d.add_vrent_max),
            vacant_layouts = CASE WHEN geo_summary_layouts_cover(s.vacant_layouts, d.add_layouts)
                THEN s.vacant_layouts ELSE (
                SELECT jsonb_agg(DISTINCT x) FROM (
                    SELECT jsonb_array_elements(s.vacant_layouts)
                    UNION ALL SELECT jsonb_array_elements(d.add_layouts)) AS l(x)) END
          FROM d
         WHERE s.estate_id = d.estate_id AND d.estate_id NOT IN (SELECT estate_id FROM lost)
           -- Rows that would not change are left alone (no new row version to write).
           AND ((d.units, d.vacant, d.offered, d.occupied, d.repair, d.withheld, d.rooms_1,
                 d.rooms_2, d.rooms_3plus) <> (0, 0, 0, 0, 0, 0, 0, 0, 0)
                OR coalesce(d.add_area_min < s.area_min, d.add_area_min IS NOT NULL)
                OR coalesce(d.add_area_max > s.area_max, d.add_area_max IS NOT NULL)
                OR coalesce(d.add_rent_min < s.rent_min, d.add_rent_min IS NOT NULL)
                OR coalesce(d.add_rent_max > s.rent_max, d.add_rent_max IS NOT NULL)
                OR coalesce(d.add_vrent_min < s.vacant_rent_min, d.add_vrent_min IS NOT NULL)
                OR coalesce(d.add_vrent_max > s.vacant_rent_max, d.add_vrent_max IS NOT NULL)
                OR NOT geo_summary_layouts_cover(s.vacant_layouts, d.add_layouts))
    )
    SELECT ARRAY(SELECT estate_id FROM lost), ARRAY(SELECT estate_id FROM vacant_lost)
      INTO recount, revacant;

    PERFORM geo_refresh_estate_summary(recount);

    -- A vacant extreme lost, or a vacant layout that left without coming back (another vacant
    -- unit may still hold it): those figures again from the estate's vacant units alone.
    revacant := ARRAY(
        SELECT estate_id FROM unnest(revacant) AS v(estate_id)
        UNION
        SELECT estate_id FROM (
            SELECT c.estate_id, c.rooms, c.halls, c.baths FROM unnest(changes) c
             WHERE c.sign < 0 AND c.status = 'vacant'
            EXCEPT
            SELECT c.estate_id, c.rooms, c.halls, c.baths FROM unnest(changes) c
             WHERE c.sign > 0 AND c.status = 'vacant'
        ) AS gone
        EXCEPT
        SELECT estate_id FROM unnest(recount) AS r(estate_id));
    IF cardinality(revacant) > 0 THEN
        UPDATE geo_estatestocksummary s SET
            vacant_rent_min = v.rent_min,
            vacant_rent_max = v.rent_max,
            vacant_layouts = coalesce(v.layouts, '[]'::jsonb)
          FROM unnest(revacant) AS t(estate_id)
          LEFT JOIN LATERAL (
            SELECT min(u.monthly_rent) AS rent_min, max(u.monthly_rent) AS rent_max,
                   jsonb_agg(DISTINCT jsonb_build_array(u.rooms, u.halls, u.baths)) AS layouts
              FROM geo_building b JOIN geo_unit u ON u.building_id = b.id
             WHERE b.estate_id = t.estate_id AND u.status = 'vacant'
          ) AS v ON true
         WHERE s.estate_id = t.estate_id;
    END IF;
END $$;

CREATE OR REPLACE FUNCTION geo_unit_summary_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_apply_unit_changes(ARRAY(
        SELECT ROW(b.estate_id, 1, n.status, n.rooms, n.halls, n.baths, n.area,
                   n.monthly_rent)::geo_unit_change
          FROM new_units n JOIN geo_building b ON b.id = n.building_id));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION geo_unit_summary_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_apply_unit_changes(ARRAY(
        SELECT ROW(b.estate_id, -1, o.status, o.rooms, o.halls, o.baths, o.area,
                   o.monthly_rent)::geo_unit_change
          FROM old_units o JOIN geo_building b ON b.id = o.building_id));
    RETURN NULL;
END $$;

-- Only rows whose summarised columns changed count: touching updated_at costs nothing.
CREATE OR REPLACE FUNCTION geo_unit_summary_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_apply_unit_changes(ARRAY(
        WITH changed AS (
            SELECT o.building_id AS old_building, o.status AS old_status, o.rooms AS old_rooms,
                   o.halls AS old_halls, o.baths AS old_baths, o.area AS old_area,
                   o.monthly_rent AS old_rent,
                   n.building_id, n.status, n.rooms, n.halls, n.baths, n.area, n.monthly_rent
              FROM new_units n JOIN old_units o ON o.id = n.id
             WHERE (n.status, n.rooms, n.halls, n.baths, n.area, n.monthly_rent, n.building_id)
                   IS DISTINCT FROM
                   (o.status, o.rooms, o.halls, o.baths, o.area, o.monthly_rent, o.building_id)
        )
        SELECT ROW(b.estate_id, 1, c.status, c.rooms, c.halls, c.baths, c.area,
                   c.monthly_rent)::geo_unit_change
          FROM changed c JOIN geo_building b ON b.id = c.building_id
        UNION ALL
        SELECT ROW(b.estate_id, -1, c.old_status, c.old_rooms, c.old_halls, c.old_baths,
                   c.old_area, c.old_rent)::geo_unit_change
          FROM changed c JOIN geo_building b ON b.id = c.old_building));
    RETURN NULL;
END $$;
"""

# The recounting trigger functions of 0006.
BACKWARD = """
CREATE OR REPLACE FUNCTION geo_unit_summary_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_refresh_estate_summary(ARRAY(
        SELECT DISTINCT b.estate_id FROM new_units n JOIN geo_building b ON b.id = n.building_id));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION geo_unit_summary_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM geo_refresh_estate_summary(ARRAY(
        SELECT DISTINCT b.estate_id FROM old_units o JOIN geo_building b ON b.id = o.building_id));
    RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION geo_unit_summary_updated() RETURNS trigger LANGUAGE plpgsql AS $$
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

DROP FUNCTION IF EXISTS geo_apply_unit_changes(geo_unit_change[]);
DROP FUNCTION IF EXISTS geo_summary_extreme_lost(numeric, numeric, numeric, boolean);
DROP FUNCTION IF EXISTS geo_summary_layouts_cover(jsonb, jsonb);
DROP TYPE IF EXISTS geo_unit_change;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0008_stock_version_from_sequence"),
    ]

    operations = [migrations.RunSQL(FORWARD, BACKWARD)]
