"""办件状态推送: the CasePush table, and a trigger on housing_application that writes a push in
the same transaction as every change of a case's step (stage or returned flag), whichever code
path makes it (services, identity claims, admin, a queryset update): none can forget it."""

import django.db.models.deletion
from django.db import migrations, models

FUNCTION = """
CREATE OR REPLACE FUNCTION housing_application_case_push() RETURNS trigger AS $$
BEGIN
    IF NEW.stage = 'draft' THEN
        RETURN NULL;
    END IF;
    IF TG_OP = 'UPDATE' AND NEW.stage = OLD.stage AND NEW.returned = OLD.returned THEN
        RETURN NULL;
    END IF;
    INSERT INTO housing_casepush
        (key, application_id, stage, returned, occurred_at, attempts, next_attempt_at, last_error)
    VALUES
        (gen_random_uuid(), NEW.id, NEW.stage, NEW.returned, clock_timestamp(), 0,
         clock_timestamp(), '');
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
CREATE TRIGGER housing_application_case_push
AFTER INSERT OR UPDATE OF stage, returned ON housing_application
FOR EACH ROW EXECUTE FUNCTION housing_application_case_push();
"""


class Migration(migrations.Migration):
    dependencies = [
        ("housing", "0010_message_templates"),
    ]

    operations = [
        migrations.CreateModel(
            name="CasePush",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("key", models.UUIDField(editable=False, unique=True, verbose_name="幂等键")),
                (
                    "stage",
                    models.CharField(
                        choices=[
                            ("draft", "草稿"),
                            ("accept", "待受理"),
                            ("first_review", "初审"),
                            ("data_check", "联审（大数据比对）"),
                            ("second_review", "复审"),
                            ("publicity", "公示"),
                            ("approved", "审批通过"),
                            ("rejected", "未通过"),
                        ],
                        max_length=15,
                        verbose_name="办理环节",
                    ),
                ),
                ("returned", models.BooleanField(verbose_name="退回补正")),
                ("occurred_at", models.DateTimeField(verbose_name="发生时间")),
                ("attempts", models.PositiveIntegerField(default=0, verbose_name="推送次数")),
                ("next_attempt_at", models.DateTimeField(verbose_name="下次推送时间")),
                (
                    "last_error",
                    models.CharField(
                        blank=True, default="", max_length=200, verbose_name="最近错误"
                    ),
                ),
                (
                    "delivered_at",
                    models.DateTimeField(blank=True, null=True, verbose_name="送达时间"),
                ),
                (
                    "application",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="housing.application",
                    ),
                ),
            ],
            options={
                "verbose_name": "办件状态推送",
                "verbose_name_plural": "办件状态推送",
                "ordering": ["id"],
                "indexes": [
                    models.Index(
                        condition=models.Q(("delivered_at__isnull", True)),
                        fields=["next_attempt_at"],
                        name="casepush_due_idx",
                    ),
                    models.Index(
                        condition=models.Q(("delivered_at__isnull", True)),
                        fields=["application", "id"],
                        name="casepush_case_pending_idx",
                    ),
                ],
            },
        ),
        migrations.RunSQL(FUNCTION, "DROP FUNCTION IF EXISTS housing_application_case_push();"),
        migrations.RunSQL(
            TRIGGER, "DROP TRIGGER IF EXISTS housing_application_case_push ON housing_application;"
        ),
    ]
