"""Re-encrypt every personal number under the newest data key and rebuild the blind indexes.

Put a new key in front of ANJU_DATA_KEYS (keep the old ones), run this, then remove the old
keys. After changing ANJU_BLIND_INDEX_KEY, run it before anyone looks a person up.
"""

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import connection, transaction
from tqdm import tqdm

from archive import crypto
from archive.fields import EncryptedCharField, EncryptedJSONField

BATCH = 1000


def encrypted_models() -> list[tuple[type, list, list[tuple]]]:
    """(model, its encrypted fields, [(index field, source field)]) for every model with any."""
    found = []
    for model in apps.get_models():
        fields = [
            f
            for f in model._meta.concrete_fields
            if isinstance(f, (EncryptedCharField, EncryptedJSONField))
        ]
        if fields:
            indexes = [
                (model._meta.get_field(f.index), f)
                for f in fields
                if isinstance(f, EncryptedCharField) and f.index
            ]
            found.append((model, fields, indexes))
    return found


def rotate_table(model, fields, indexes, progress=None) -> int:
    """Batch by primary key; each batch one transaction, so an interrupted run can resume."""
    qn = connection.ops.quote_name
    table, pk = qn(model._meta.db_table), qn(model._meta.pk.column)
    columns = [qn(f.column) for f in fields]
    done, last = 0, None
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            where = f"WHERE {pk} > %s" if last is not None else ""
            cursor.execute(
                f"SELECT {pk}, {', '.join(columns)} FROM {table} {where} "
                f"ORDER BY {pk} LIMIT {BATCH}",
                [last] if last is not None else [],
            )
            rows = cursor.fetchall()
            if not rows:
                return done
            updates = []
            for key, *tokens in rows:
                plain = dict(zip([f.name for f in fields], tokens, strict=True))
                values = [crypto.rotate(t) if t else t for t in tokens]
                values += [
                    crypto.blind_index(crypto.decrypt(plain[source.name]))
                    if plain[source.name]
                    else ""
                    for _, source in indexes
                ]
                updates.append([*values, key])
            sets = [f"{c} = %s" for c in columns] + [f"{qn(i.column)} = %s" for i, _ in indexes]
            cursor.executemany(f"UPDATE {table} SET {', '.join(sets)} WHERE {pk} = %s", updates)
            last = rows[-1][0]
            done += len(rows)
            if progress is not None:
                progress.update(len(rows))


class Command(BaseCommand):
    help = "用最新的密钥重新加密身份证号、手机号等个人信息，并重建检索索引。"

    def add_arguments(self, parser):
        parser.add_argument(
            "--new-key", action="store_true", help="只生成一个新的数据密钥并打印（放在列表最前）"
        )

    def handle(self, *args, new_key: bool = False, verbosity: int = 1, **options):
        if new_key:
            self.stdout.write(crypto.new_key())
            return
        total = 0
        for model, fields, indexes in encrypted_models():
            count = model._default_manager.count()
            with tqdm(
                total=count,
                desc=str(model._meta.verbose_name),
                unit="行",
                disable=verbosity < 1,
            ) as bar:
                total += rotate_table(model, fields, indexes, bar)
        if verbosity:
            self.stdout.write(self.style.SUCCESS(f"已用最新密钥重新加密 {total} 行。"))
