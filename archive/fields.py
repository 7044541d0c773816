"""Model fields that keep personal data encrypted in the database (see archive.crypto).

`EncryptedCharField(index="…")` reads and writes plain text in Python and a Fernet token in the
table; `filter(field=value)` and `field__in=[…]` are answered by its `BlindIndexField`, so code
asks for a person by number as before and PostgreSQL uses an ordinary index. Lookups that would
need the plain text in SQL (contains, startswith, ordering) are refused loudly instead of
silently matching nothing.
"""

import json

from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import Col

from archive.crypto import blind_index, decrypt, encrypt

_ALLOWED = {"exact", "in", "isnull"}


def _refuse(field: models.Field, lookup_name: str) -> None:
    raise FieldError(
        f"{field.model.__name__}.{field.name} is stored encrypted: only exact matches "
        f"(through its blind index) are possible, not __{lookup_name}."
    )


class EncryptedCharField(models.CharField):
    """Short personal text (an ID or phone number) stored as a token; max_length applies to the
    plain text, for forms."""

    def __init__(self, *args, index: str | None = None, **kwargs):
        self.index = index
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.index:
            kwargs["index"] = self.index
        return name, path, args, kwargs

    def db_type(self, connection) -> str:
        return "text"

    def from_db_value(self, value, expression, connection):
        return value if value in (None, "") else decrypt(value)

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        return value if value in (None, "") else encrypt(value)

    def get_lookup(self, lookup_name):
        if lookup_name not in _ALLOWED or (lookup_name != "isnull" and not self.index):
            _refuse(self, lookup_name)
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        _refuse(self, lookup_name)


class _ByIndex(Lookup):
    """Compares the companion blind index instead of the token."""

    prepare_rhs = False

    def index_column(self, compiler):
        field = self.lhs.target
        if not isinstance(self.lhs, Col) or hasattr(self.rhs, "resolve_expression"):
            raise FieldError(f"{field.name} is encrypted: compare it with plain values only.")
        return compiler.compile(Col(self.lhs.alias, field.model._meta.get_field(field.index)))


@EncryptedCharField.register_lookup
class IndexedExact(_ByIndex):
    lookup_name = "exact"

    def as_sql(self, compiler, connection):
        sql, params = self.index_column(compiler)
        return f"{sql} = %s", [*params, blind_index(self.rhs)]


@EncryptedCharField.register_lookup
class IndexedIn(_ByIndex):
    lookup_name = "in"

    def as_sql(self, compiler, connection):
        values = [blind_index(v) for v in self.rhs if v not in (None, "")]
        if not values:
            return "FALSE", []
        sql, params = self.index_column(compiler)
        return f"{sql} IN ({', '.join(['%s'] * len(values))})", [*params, *values]


class BlindIndexField(models.CharField):
    """HMAC of the `source` field, computed on every save (and bulk_create); never edited."""

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        fixed = (("max_length", 64), ("editable", False), ("blank", True), ("default", ""))
        for key, default in fixed:
            if kwargs.get(key, default) == default:
                kwargs.pop(key, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = blind_index(getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


class EncryptedJSONField(models.TextField):
    """A JSON document (department answers, prefilled households) stored as one token."""

    def from_db_value(self, value, expression, connection):
        return None if value is None else json.loads(decrypt(value))

    def to_python(self, value):
        return value

    def get_prep_value(self, value):
        if value is None:
            return None
        return encrypt(json.dumps(value, ensure_ascii=False, cls=DjangoJSONEncoder))

    def value_to_string(self, obj) -> str:
        return json.dumps(self.value_from_object(obj), ensure_ascii=False, cls=DjangoJSONEncoder)

    def get_lookup(self, lookup_name):
        if lookup_name != "isnull":
            _refuse(self, lookup_name)
        return super().get_lookup(lookup_name)

    def get_transform(self, lookup_name):
        _refuse(self, lookup_name)
