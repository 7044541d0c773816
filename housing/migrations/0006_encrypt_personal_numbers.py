# Personal numbers encrypted at rest, found through keyed blind indexes (archive/crypto.py).

from django.conf import settings
from django.db import migrations, models

import archive.fields
from archive.crypto import encrypt_existing

# (table, column, blind index column or None): plain values become tokens before the indexes
# and constraints on the blind index are built.
COLUMNS = [
    ("housing_applicant", "phone", "phone_index"),
    ("housing_onetimecode", "phone", "phone_index"),
    ("housing_smsmessage", "phone", "phone_index"),
    ("housing_application", "id_number", "id_index"),
    ("housing_application", "phone", None),
    ("housing_application", "prefilled", None),
    ("housing_member", "id_number", None),
    ("housing_household", "head_id_number", "head_id_index"),
    ("housing_household", "phone", None),
    ("housing_householdmember", "id_number", None),
    ("housing_identityclaim", "id_number", "id_index"),
]


def encrypt_rows(apps, schema_editor):
    for table, column, index in COLUMNS:
        encrypt_existing(schema_editor.connection, table, column, index)


class Migration(migrations.Migration):
    dependencies = [
        ("disclosure", "0004_no_truncate"),
        ("geo", "0003_building_position"),
        ("housing", "0005_identity_claim"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name="application",
            name="one_open_application",
        ),
        migrations.RemoveConstraint(
            model_name="household",
            name="one_active_household",
        ),
        migrations.RemoveConstraint(
            model_name="identityclaim",
            name="one_pending_claim",
        ),
        migrations.RemoveIndex(
            model_name="application",
            name="application_person_idx",
        ),
        migrations.RemoveIndex(
            model_name="household",
            name="household_person_idx",
        ),
        migrations.RemoveIndex(
            model_name="onetimecode",
            name="otp_phone_idx",
        ),
        migrations.AddField(
            model_name="applicant",
            name="phone_index",
            field=archive.fields.BlindIndexField(source="phone"),
        ),
        migrations.AddField(
            model_name="application",
            name="id_index",
            field=archive.fields.BlindIndexField(source="id_number"),
        ),
        migrations.AddField(
            model_name="household",
            name="head_id_index",
            field=archive.fields.BlindIndexField(source="head_id_number"),
        ),
        migrations.AddField(
            model_name="identityclaim",
            name="id_index",
            field=archive.fields.BlindIndexField(source="id_number"),
        ),
        migrations.AddField(
            model_name="onetimecode",
            name="phone_index",
            field=archive.fields.BlindIndexField(source="phone"),
        ),
        migrations.AddField(
            model_name="smsmessage",
            name="phone_index",
            field=archive.fields.BlindIndexField(db_index=True, source="phone"),
        ),
        migrations.AlterField(
            model_name="applicant",
            name="phone",
            field=archive.fields.EncryptedCharField(
                index="phone_index", max_length=11, verbose_name="手机号"
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="id_number",
            field=archive.fields.EncryptedCharField(
                index="id_index", max_length=18, verbose_name="身份证号"
            ),
        ),
        migrations.AlterField(
            model_name="application",
            name="phone",
            field=archive.fields.EncryptedCharField(max_length=11, verbose_name="联系电话"),
        ),
        migrations.AlterField(
            model_name="application",
            name="prefilled",
            field=archive.fields.EncryptedJSONField(
                blank=True, default=dict, verbose_name="部门数据预填"
            ),
        ),
        migrations.AlterField(
            model_name="household",
            name="head_id_number",
            field=archive.fields.EncryptedCharField(
                index="head_id_index", max_length=18, verbose_name="申请人身份证号"
            ),
        ),
        migrations.AlterField(
            model_name="household",
            name="phone",
            field=archive.fields.EncryptedCharField(max_length=11, verbose_name="联系电话"),
        ),
        migrations.AlterField(
            model_name="householdmember",
            name="id_number",
            field=archive.fields.EncryptedCharField(
                blank=True, max_length=18, verbose_name="身份证号"
            ),
        ),
        migrations.AlterField(
            model_name="identityclaim",
            name="id_number",
            field=archive.fields.EncryptedCharField(
                index="id_index", max_length=18, verbose_name="身份证号"
            ),
        ),
        migrations.AlterField(
            model_name="member",
            name="id_number",
            field=archive.fields.EncryptedCharField(
                blank=True, max_length=18, verbose_name="身份证号"
            ),
        ),
        migrations.AlterField(
            model_name="onetimecode",
            name="phone",
            field=archive.fields.EncryptedCharField(index="phone_index", max_length=11),
        ),
        migrations.AlterField(
            model_name="smsmessage",
            name="phone",
            field=archive.fields.EncryptedCharField(index="phone_index", max_length=11),
        ),
        migrations.RunPython(encrypt_rows, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="applicant",
            name="phone_index",
            field=archive.fields.BlindIndexField(source="phone", unique=True),
        ),
        migrations.AddIndex(
            model_name="application",
            index=models.Index(fields=["id_index"], name="application_person_idx"),
        ),
        migrations.AddIndex(
            model_name="household",
            index=models.Index(fields=["head_id_index"], name="household_person_idx"),
        ),
        migrations.AddIndex(
            model_name="onetimecode",
            index=models.Index(fields=["phone_index", "created_at"], name="otp_phone_idx"),
        ),
        migrations.AddConstraint(
            model_name="application",
            constraint=models.UniqueConstraint(
                condition=models.Q(("stage__in", ["draft", "rejected"]), _negated=True),
                fields=("id_index",),
                name="one_open_application",
            ),
        ),
        migrations.AddConstraint(
            model_name="household",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "exited"), _negated=True),
                fields=("head_id_index",),
                name="one_active_household",
            ),
        ),
        migrations.AddConstraint(
            model_name="identityclaim",
            constraint=models.UniqueConstraint(
                condition=models.Q(("status", "pending")),
                fields=("claimant", "id_index"),
                name="one_pending_claim",
            ),
        ),
        migrations.AlterModelOptions(
            name="member",
            options={
                "ordering": ["id"],
                "verbose_name": "申请家庭成员",
                "verbose_name_plural": "申请家庭成员",
            },
        ),
        migrations.AlterModelOptions(
            name="onetimecode",
            options={"verbose_name": "登录验证码", "verbose_name_plural": "登录验证码"},
        ),
        migrations.AlterModelOptions(
            name="smsmessage",
            options={
                "ordering": ["-created_at"],
                "verbose_name": "短信",
                "verbose_name_plural": "短信",
            },
        ),
    ]
