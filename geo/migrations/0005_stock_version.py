"""The stock version: counter rows bumped once per transaction by statement-level triggers on
the stock tables, so public caches key on a number that changes with every committed change."""

from django.db import migrations, models

SLOTS = 16
TABLES = ("geo_region", "geo_operator", "geo_estate", "geo_building", "geo_unit", "geo_poi")

# Once per transaction (a transaction-local setting remembers it): a bulk loop of single-row
# saves must not pile thousands of versions of one counter row into its transaction.
FUNCTION = f"""
INSERT INTO geo_stockversion (slot, version, changed_at)
SELECT s, 0, now() FROM generate_series(0, {SLOTS - 1}) AS s;

CREATE FUNCTION geo_bump_stock_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('anju.stock_bumped', true), '') <> 'yes' THEN
        UPDATE geo_stockversion
           SET version = version + 1, changed_at = clock_timestamp()
         WHERE slot = pg_backend_pid() % {SLOTS};
        PERFORM set_config('anju.stock_bumped', 'yes', true);
    END IF;
    RETURN NULL;
END $$;
"""


def trigger(table: str) -> str:
    return (
        f"CREATE TRIGGER {table}_stock_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
        f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION geo_bump_stock_version();"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0004_search_words_and_natural_order"),
    ]

    operations = [
        migrations.CreateModel(
            name="StockVersion",
            fields=[
                ("slot", models.PositiveSmallIntegerField(primary_key=True, serialize=False)),
                ("version", models.BigIntegerField(default=0)),
                ("changed_at", models.DateTimeField()),
            ],
            options={
                "verbose_name": "房源数据版本",
                "verbose_name_plural": "房源数据版本",
            },
        ),
        migrations.RunSQL(
            FUNCTION + "".join(trigger(t) for t in TABLES),
            "".join(f"DROP TRIGGER IF EXISTS {t}_stock_version ON {t};" for t in TABLES)
            + "DROP FUNCTION IF EXISTS geo_bump_stock_version();"
            + "DELETE FROM geo_stockversion;",
        ),
    ]
