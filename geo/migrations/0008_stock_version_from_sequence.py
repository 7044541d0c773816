"""The stock version's counters take their values from a sequence, which never hands out a
number twice, even when a transaction rolls back: a version names one committed state only
(tests roll back every change, and a cache must not mistake their states for one another)."""

from django.db import migrations

# The row is written once per transaction (thousands of single-row saves in one transaction
# must not pile up versions of one row); later statements of the same transaction only count
# themselves in a transaction-local setting, which stock_version adds for readers inside that
# transaction (tests, which run in one). Sequence steps leave room for that count.
SQL = """
CREATE SEQUENCE geo_stockversion_seq INCREMENT BY 1048576;
SELECT setval('geo_stockversion_seq',
              (SELECT coalesce(sum(version), 0)::bigint + 1048576 FROM geo_stockversion));

CREATE OR REPLACE FUNCTION geo_bump_stock_version() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    changes bigint := coalesce(nullif(current_setting('anju.stock_changes', true), ''), '0')::bigint;
BEGIN
    IF changes = 0 THEN
        UPDATE geo_stockversion
           SET version = nextval('geo_stockversion_seq'), changed_at = clock_timestamp()
         WHERE slot = pg_backend_pid() % 16;
    END IF;
    PERFORM set_config('anju.stock_changes', (changes + 1)::text, true);
    RETURN NULL;
END $$;
"""

UNDO = """
CREATE OR REPLACE FUNCTION geo_bump_stock_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('anju.stock_bumped', true), '') <> 'yes' THEN
        UPDATE geo_stockversion
           SET version = version + 1, changed_at = clock_timestamp()
         WHERE slot = pg_backend_pid() % 16;
        PERFORM set_config('anju.stock_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END $$;
DROP SEQUENCE IF EXISTS geo_stockversion_seq;
"""


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0007_building_map_point"),
    ]

    operations = [migrations.RunSQL(SQL, UNDO)]
