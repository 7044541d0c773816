"""The field mapping as data: read data/standard/mapping.json and refuse a wrong one.

A city clerk edits the file, so every mistake is reported in Chinese with the group, table
and field it sits in, before anything is exported.
"""

import json
import re
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings

DEFAULT_PATH = Path(settings.BASE_DIR) / "data" / "standard" / "mapping.json"
TYPES = {"C", "N", "D", "DT"}
EXTRACTORS = {"sex_from_id", "birth_from_id", "lon", "lat"}
CHECKS = {"id_number"}
_CALL = re.compile(r"^([a-z_]+)\(([a-z_.]+)\)$")
_PATH = re.compile(r"^[a-z_]+(\.[a-z_]+)*$")


class MappingError(ValueError):
    """The mapping file cannot be used; the message names the place in it."""


@dataclass(frozen=True)
class CodeTable:
    code: str
    name: str
    source: str
    values: dict[str, str]  # the standard's code → its label
    ours: dict[str, str]  # our stored value → the standard's code (empty: the same)
    values_from: str = ""  # "regions": the codes are our registered regions'


@dataclass(frozen=True)
class Field:
    code: str
    name: str
    type: str
    length: int | None
    scale: int
    required: bool
    key: bool
    path: str  # a dotted path on the dataset's model ("" for a constant)
    extractor: str  # a named extractor applied to the path's value ("" for none)
    value: str | None  # a constant
    codes: str  # a code table's key ("" for none)
    check: str  # a named extra check ("id_number")
    source: str

    @property
    def lookup(self) -> str:
        return self.path.replace(".", "__")


@dataclass(frozen=True)
class Table:
    code: str
    name: str
    dataset: str
    source: str
    group: str
    fields: tuple[Field, ...]

    @property
    def key(self) -> Field:
        return next((f for f in self.fields if f.key), self.fields[0])


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    source: str
    tables: tuple[Table, ...]


@dataclass(frozen=True)
class Mapping:
    version: str
    standard: dict
    groups: tuple[Group, ...]
    code_tables: dict[str, CodeTable]

    def tables(self, groups: list[str] | None = None) -> list[Table]:
        return [t for g in self.groups if not groups or g.code in groups for t in g.tables]

    def group(self, code: str) -> Group | None:
        return next((g for g in self.groups if g.code == code), None)

    def table(self, code: str) -> Table | None:
        return next((t for t in self.tables() if t.code == code), None)


def load(path: Path | str | None = None) -> Mapping:
    """The mapping at `path` (data/standard/mapping.json by default), checked against the
    datasets and models; MappingError names the first wrong place."""
    from insights.standard.datasets import DATASETS, resolve

    path = Path(path or DEFAULT_PATH)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MappingError(f"映射文件 {path} 不存在。") from exc
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        where = f"第 {exc.lineno} 行第 {exc.colno} 列" if hasattr(exc, "lineno") else ""
        raise MappingError(f"映射文件 {path} 不是有效的 JSON：{where}{exc}") from exc
    if not isinstance(raw, dict):
        raise MappingError(f"映射文件 {path} 的最外层应是一个对象（{{…}}）。")
    code_tables = _code_tables(raw.get("code_tables"))
    groups, seen = [], set()
    for gi, g in enumerate(_list(raw.get("groups"), "“groups”"), start=1):
        where = f"第 {gi} 组"
        g = _dict(g, where)
        gcode, gname = _text(g, "code", where), _text(g, "name", where)
        where = f"第 {gi} 组“{gname}”"
        tables = []
        for ti, t in enumerate(_list(g.get("tables"), f"{where}的“tables”"), start=1):
            t = _dict(t, f"{where}第 {ti} 张表")
            tname = _text(t, "name", f"{where}第 {ti} 张表")
            twhere = f"{where}表“{tname}”"
            tcode = _text(t, "code", twhere)
            if tcode in seen:
                raise MappingError(f"{twhere}：表代码“{tcode}”重复。")
            seen.add(tcode)
            dataset = _text(t, "dataset", twhere)
            if dataset not in DATASETS:
                known = "、".join(DATASETS)
                raise MappingError(f"{twhere}：数据集“{dataset}”不存在（可用：{known}）。")
            fields = []
            for fi, f in enumerate(_list(t.get("fields"), f"{twhere}的“fields”"), start=1):
                field = _field(_dict(f, f"{twhere}第 {fi} 个字段"), f"{twhere}第 {fi} 个字段")
                fwhere = f"{twhere}字段“{field.name}”（{field.code}）"
                if any(x.code == field.code for x in fields):
                    raise MappingError(f"{fwhere}：字段代码重复。")
                if field.codes and field.codes not in code_tables:
                    raise MappingError(f"{fwhere}：代码表“{field.codes}”未在 code_tables 中定义。")
                if field.path:
                    try:
                        resolve(DATASETS[dataset].model, field.lookup)
                    except LookupError as exc:
                        raise MappingError(f"{fwhere}：来源“{field.path}”{exc}") from exc
                fields.append(field)
            if not fields:
                raise MappingError(f"{twhere}：没有字段。")
            tables.append(
                Table(tcode, tname, dataset, str(t.get("source", "")), gcode, tuple(fields))
            )
        groups.append(Group(gcode, gname, str(g.get("source", "")), tuple(tables)))
    if not groups:
        raise MappingError(f"映射文件 {path} 没有任何组（groups）。")
    return Mapping(
        str(raw.get("version", "")), raw.get("standard") or {}, tuple(groups), code_tables
    )


def _field(f: dict, where: str) -> Field:
    code, name = _text(f, "code", where), _text(f, "name", where)
    where = f"{where}“{name}”（{code}）"
    kind = f.get("type")
    if kind not in TYPES:
        raise MappingError(f"{where}：类型“{kind}”无效，应为 C、N、D 或 DT。")
    length, scale = f.get("length"), f.get("scale", 0)
    if kind in ("C", "N") and not (isinstance(length, int) and length > 0):
        raise MappingError(f"{where}：{kind} 型字段须写正整数长度“length”。")
    if not (isinstance(scale, int) and 0 <= scale < (length or 1)):
        raise MappingError(f"{where}：小数位数“scale”应为小于长度的非负整数。")
    if not isinstance(f.get("required", False), bool):
        raise MappingError(f"{where}：“required”应为 true 或 false。")
    source, value = f.get("from"), f.get("value")
    if (source is None) == (value is None):
        raise MappingError(f"{where}：须写“from”（数据来源）或“value”（固定值）之一。")
    path, extractor = "", ""
    if source is not None:
        call = _CALL.match(str(source))
        if call:
            extractor, path = call.groups()
            if extractor not in EXTRACTORS:
                known = "、".join(sorted(EXTRACTORS))
                raise MappingError(f"{where}：取值函数“{extractor}”不存在（可用：{known}）。")
        elif _PATH.match(str(source)):
            path = str(source)
        else:
            raise MappingError(f"{where}：来源“{source}”应为“a.b.c”或“函数(a.b)”的形式。")
    check = str(f.get("check", ""))
    if check and check not in CHECKS:
        raise MappingError(f"{where}：校验“{check}”不存在（可用：id_number）。")
    return Field(
        code=code,
        name=name,
        type=kind,
        length=length,
        scale=scale,
        required=f.get("required", False),
        key=bool(f.get("key", False)),
        path=path,
        extractor=extractor,
        value=None if value is None else str(value),
        codes=str(f.get("codes", "")),
        check=check,
        source=str(f.get("source", "")),
    )


def _code_tables(raw) -> dict[str, CodeTable]:
    tables = {}
    for key, t in _dict(raw or {}, "“code_tables”").items():
        where = f"代码表“{key}”"
        t = _dict(t, where)
        values_from = str(t.get("values_from", ""))
        if values_from and values_from != "regions":
            raise MappingError(f"{where}：“values_from”只能是 regions。")
        values = _dict(t.get("values", {}), f"{where}的“values”")
        ours = _dict(t.get("ours", {}), f"{where}的“ours”")
        if not values and not values_from:
            raise MappingError(f"{where}：没有代码值（values）。")
        for mine, theirs in ours.items():
            if str(theirs) not in values:
                raise MappingError(f"{where}：“ours”把“{mine}”对到“{theirs}”，它不在 values 中。")
        tables[key] = CodeTable(
            key,
            str(t.get("name", key)),
            str(t.get("source", "")),
            {str(k): str(v) for k, v in values.items()},
            {str(k): str(v) for k, v in ours.items()},
            values_from,
        )
    return tables


def _dict(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise MappingError(f"{where}应是一个对象（{{…}}）。")
    return value


def _list(value, where: str) -> list:
    if not isinstance(value, list):
        raise MappingError(f"{where}应是一个列表（[…]）。")
    return value


def _text(d: dict, key: str, where: str) -> str:
    value = d.get(key)
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"{where}：缺少“{key}”。")
    return value.strip()
