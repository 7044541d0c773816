"""Rows of a standard table: one set-based query per table, read through a server-side cursor
in batches, each value converted to the standard's type and checked (required, length,
number, date, code table); a row either comes out whole or yields its faults instead.

Encrypted columns (ID numbers, phones) are read as raw tokens and decrypted here, row by row
inside each batch, as insights.checks does: an unreadable token is a fault, not a crash.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import CharField, TextField, Value
from django.db.models.functions import Cast, Concat
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from archive.crypto import UnreadableData, decrypt
from archive.fields import EncryptedCharField
from exchange.idcard import validate_id_number
from geo.models import Region
from housing.identity import masked
from insights.standard.datasets import DATASETS, resolve
from insights.standard.mapping import Field, Mapping, Table

BATCH = 2000

KINDS = {
    "required": _("必填项为空"),
    "length": _("超出长度"),
    "number": _("数值不合规"),
    "date": _("日期不合规"),
    "code": _("代码值不在代码表"),
    "derive": _("无法推得"),
    "id_number": _("证件号码校验不通过"),
    "decrypt": _("无法解密"),
}


@dataclass(frozen=True)
class Fault:
    """One field of one record that the standard would refuse."""

    table: str
    table_name: str
    record_id: int
    record: str
    county_id: int | None
    county: str
    field: str
    field_name: str
    kind: str
    problem: str
    link: str  # URL name, "" when no page fixes it
    link_id: int | None
    hint: str = ""

    @property
    def kind_label(self) -> str:
        return str(KINDS[self.kind])

    def url(self) -> str:
        from django.urls import reverse

        return reverse(self.link, args=[self.link_id]) if self.link else ""


class _Refused(Exception):
    def __init__(self, kind: str, problem: str):
        self.kind, self.problem = kind, problem


def _sex(number: str) -> str:
    if len(number) != 18 or not number[16].isascii() or not number[16].isdigit():
        raise _Refused("derive", str(_("无法从证件号码推得性别")))
    return "1" if int(number[16]) % 2 else "2"


def _birth(number: str) -> date:
    try:
        return date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError as exc:
        raise _Refused("derive", str(_("无法从证件号码推得出生日期"))) from exc


EXTRACT: dict[str, Callable] = {
    "sex_from_id": _sex,
    "birth_from_id": _birth,
    "lon": lambda point: Decimal(str(point.x)),
    "lat": lambda point: Decimal(str(point.y)),
}


class Converter:
    """Turns one field's stored value into the standard's cell, or refuses it."""

    def __init__(self, mapping: Mapping):
        self.mapping = mapping
        self._regions: set[str] | None = None

    def regions(self) -> set[str]:
        if self._regions is None:
            self._regions = set(Region.objects.values_list("adcode", flat=True))
        return self._regions

    def cell(self, field: Field, value):
        if field.value is not None:
            value = field.value
        if value is not None and field.extractor and value != "":
            value = EXTRACT[field.extractor](value)
        if value is None or (isinstance(value, str) and not value.strip()):
            if field.required:
                raise _Refused("required", str(_("必填项“%(name)s”为空") % {"name": field.name}))
            return None
        if field.codes:
            value = self._code(field, value)
        if field.check == "id_number":
            reason = validate_id_number(str(value))
            if reason:
                shown = masked(str(value)) if len(str(value)) >= 10 else ""
                raise _Refused("id_number", f"{shown} {reason}".strip())
        return getattr(self, f"_{field.type.lower()}")(field, value)

    def _code(self, field: Field, value) -> str:
        table = self.mapping.code_tables[field.codes]
        mine = str(value)
        code = table.ours.get(mine, mine) if table.ours else mine
        known = self.regions() if table.values_from == "regions" else table.values
        if code not in known:
            raise _Refused(
                "code",
                str(_("“%(value)s”不在代码表“%(table)s”中")) % {"value": mine, "table": table.name},
            )
        return code

    def _c(self, field: Field, value) -> str:
        text = str(value).strip()
        if len(text) > field.length:
            raise _Refused(
                "length",
                str(_("长度 %(n)s 超过 %(max)s 个字符")) % {"n": len(text), "max": field.length},
            )
        return text

    def _n(self, field: Field, value) -> Decimal:
        try:
            if isinstance(value, bool):
                raise InvalidOperation
            number = Decimal(str(value).strip())
            quantum = Decimal(1).scaleb(-field.scale)
            number = number.quantize(quantum)
        except (InvalidOperation, ValueError):
            raise _Refused("number", str(_("“%(v)s”不是数值")) % {"v": value}) from None
        digits = len(str(abs(number).to_integral_value(rounding="ROUND_DOWN")).lstrip("0"))
        if digits > field.length - field.scale:
            raise _Refused(
                "number",
                str(_("%(v)s 超出 %(n)s 位整数")) % {"v": value, "n": field.length - field.scale},
            )
        return number

    def _d(self, field: Field, value) -> str:
        return self._moment(value, with_time=False)

    def _dt(self, field: Field, value) -> str:
        return self._moment(value, with_time=True)

    def _moment(self, value, with_time: bool) -> str:
        if isinstance(value, str):
            try:
                value = datetime.fromisoformat(value.strip())
            except ValueError:
                raise _Refused("date", str(_("“%(v)s”不是日期")) % {"v": value}) from None
        if isinstance(value, datetime):
            if timezone.is_aware(value):
                value = timezone.localtime(value)
        elif not isinstance(value, date):
            raise _Refused("date", str(_("“%(v)s”不是日期")) % {"v": value})
        if not 1900 <= value.year <= 2100:
            raise _Refused("date", str(_("日期 %(v)s 超出 1900—2100 年")) % {"v": value})
        if with_time:
            moment = value if isinstance(value, datetime) else datetime(*value.timetuple()[:3])
            return moment.strftime("%Y-%m-%d %H:%M:%S")
        return (value.date() if isinstance(value, datetime) else value).isoformat()


def _plan(table: Table) -> tuple[list[str], dict[str, str]]:
    """The distinct lookups to select, and which of them are encrypted (alias → lookup)."""
    model = DATASETS[table.dataset].model
    lookups, encrypted = [], {}
    for field in table.fields:
        if not field.path or field.lookup in lookups or field.lookup in encrypted.values():
            continue
        if isinstance(resolve(model, field.lookup), EncryptedCharField):
            encrypted[f"token_{len(encrypted)}"] = field.lookup
        else:
            lookups.append(field.lookup)
    return lookups, encrypted


def count(table: Table, user: AbstractBaseUser | None = None, county: int | None = None) -> int:
    return DATASETS[table.dataset].rows(user, county).count()


def records(
    mapping: Mapping,
    table: Table,
    on_fault: Callable[[Fault], None],
    user: AbstractBaseUser | None = None,
    county: int | None = None,
    converter: Converter | None = None,
) -> Iterator[list]:
    """The table's rows as lists of cells in the mapping's field order; a record with any
    fault is not yielded, its faults go to `on_fault` (all of them, one per field)."""
    dataset = DATASETS[table.dataset]
    converter = converter or Converter(mapping)
    lookups, encrypted = _plan(table)
    meta = ["pk", f"{dataset.county}_id", f"{dataset.county}__name", dataset.link_id]
    qs = dataset.rows(user, county).annotate(
        std_label=Concat(
            *[part for lookup in dataset.label for part in (Value(" "), Cast(lookup, CharField()))][
                1:
            ],
            Value(""),
            output_field=CharField(),
        ),
        **{alias: Cast(lookup, TextField()) for alias, lookup in encrypted.items()},
    )
    columns = [*meta, "std_label", *lookups, *encrypted]
    for row in qs.values_list(*columns).iterator(chunk_size=BATCH):
        pk, county_id, county_name, link_id, label = row[:5]
        values = dict(zip(lookups, row[5 : 5 + len(lookups)], strict=True))
        refused: list[tuple[Field, str, str]] = []
        unreadable = set()
        for alias, token in zip(encrypted, row[5 + len(lookups) :], strict=True):
            try:
                values[encrypted[alias]] = decrypt(token) if token else ""
            except UnreadableData:
                values[encrypted[alias]] = None
                unreadable.add(encrypted[alias])
        cells = []
        for field in table.fields:
            if field.path and field.lookup in unreadable:
                refused.append((field, "decrypt", str(_("无法解密（密钥缺失）"))))
                continue
            try:
                cells.append(
                    converter.cell(field, values.get(field.lookup) if field.path else None)
                )
            except _Refused as refusal:
                refused.append((field, refusal.kind, refusal.problem))
        if not refused:
            yield cells
            continue
        for field, kind, problem in refused:
            on_fault(
                Fault(
                    table.code,
                    table.name,
                    pk,
                    label or str(pk),
                    county_id,
                    county_name or "",
                    field.code,
                    field.name,
                    kind,
                    problem,
                    dataset.link,
                    link_id,
                    dataset.fix_hint,
                )
            )
