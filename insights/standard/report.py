"""The mapping-fault report (issue 15 point 6): every record the standard would refuse, counted
per county and per kind, with the first ones kept for a page and all of them streamable."""

from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.models import AbstractBaseUser

from insights.standard.mapping import Mapping, Table
from insights.standard.records import Converter, Fault, records


@dataclass
class Report:
    kept: list[Fault] = field(default_factory=list)
    total: int = 0
    records: set = field(default_factory=set)  # (table, record id) with any fault
    per_county: Counter = field(default_factory=Counter)  # (county id, name) → faults
    per_kind: Counter = field(default_factory=Counter)  # (table, field name, kind label) → n


def scan(
    mapping: Mapping,
    tables: list[Table],
    user: AbstractBaseUser | None = None,
    county: int | None = None,
    keep: int | None = 50,
) -> Report:
    """Read every row of `tables` once and tally the faults; keep the first `keep` (all: None)."""
    report = Report()
    converter = Converter(mapping)

    def add(f: Fault) -> None:
        report.total += 1
        report.records.add((f.table, f.record_id))
        report.per_county[(f.county_id, f.county)] += 1
        report.per_kind[(f.table_name, f.field_name, f.kind_label)] += 1
        if keep is None or len(report.kept) < keep:
            report.kept.append(f)

    for table in tables:
        for _cells in records(mapping, table, add, user, county, converter=converter):
            pass
    return report


def iter_faults(
    mapping: Mapping,
    tables: list[Table],
    user: AbstractBaseUser | None = None,
    county: int | None = None,
) -> Iterator[Fault]:
    """Every fault in table order, as the rows are read (for a streamed download)."""
    pending: list[Fault] = []
    converter = Converter(mapping)
    for table in tables:
        for _cells in records(mapping, table, pending.append, user, county, converter=converter):
            if pending:
                yield from pending
                pending.clear()
        yield from pending
        pending.clear()
