"""Search keys word by word, with an estate's address, so pinyin finds what Chinese finds (the
keys are rebuilt here); buildings in natural order, 2号楼 before 10号楼."""

import django.db.models.functions.comparison
from django.db import migrations, models


def rebuild_search_keys(apps, schema_editor):
    from geo.pinyin import search_keys

    Estate = apps.get_model("geo", "Estate")
    Region = apps.get_model("geo", "Region")
    estates = list(Estate.objects.only("id", "name", "address"))
    for estate in estates:
        estate.search_pinyin, estate.search_initials = search_keys(estate.name, estate.address)
    Estate.objects.bulk_update(estates, ["search_pinyin", "search_initials"], batch_size=1000)
    regions = list(Region.objects.only("id", "name"))
    for region in regions:
        region.search_pinyin, region.search_initials = search_keys(region.name)
    Region.objects.bulk_update(regions, ["search_pinyin", "search_initials"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("geo", "0003_building_position"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="building",
            options={
                "ordering": [
                    "estate",
                    models.Func(models.F("number"), models.Value("^\\D*"), function="substring"),
                    django.db.models.functions.comparison.Cast(
                        models.Func(
                            models.F("number"), models.Value("\\d{1,18}"), function="substring"
                        ),
                        models.BigIntegerField(),
                    ),
                    models.F("number"),
                ],
                "verbose_name": "楼栋",
                "verbose_name_plural": "楼栋",
            },
        ),
        migrations.AlterField(
            model_name="estate",
            name="search_initials",
            field=models.CharField(blank=True, editable=False, max_length=600),
        ),
        migrations.AlterField(
            model_name="estate",
            name="search_pinyin",
            field=models.CharField(blank=True, editable=False, max_length=2000),
        ),
        migrations.AlterField(
            model_name="region",
            name="search_initials",
            field=models.CharField(blank=True, editable=False, max_length=600),
        ),
        migrations.AlterField(
            model_name="region",
            name="search_pinyin",
            field=models.CharField(blank=True, editable=False, max_length=2000),
        ),
        migrations.RunPython(rebuild_search_keys, migrations.RunPython.noop, elidable=True),
    ]
