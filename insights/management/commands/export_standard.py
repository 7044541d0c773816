"""`manage.py export_standard`: the 贯标 export of the whole database (or one county) as XLSX,
CSV or JSON by data/standard/mapping.json; `--check` lists the records the mapping refuses,
counted per county, and exits non-zero when there are any."""

import os
import tempfile
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from geo.models import Region
from insights.standard import mapping as standard_mapping
from insights.standard.report import scan
from insights.standard.writers import FORMATS, Export


class Command(BaseCommand):
    help = "Export the national public rental housing data standard (贯标) tables."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--format", choices=FORMATS, default="xlsx")
        parser.add_argument(
            "--group", action="append", help="Only these groups (repeatable): rules, …"
        )
        parser.add_argument("--county", help="Only this county (its 6-digit adcode).")
        parser.add_argument(
            "--output",
            help="A file, or a directory (CSV: one file per table; a .zip path zips them).",
        )
        parser.add_argument("--mapping", help="Another mapping file (default data/standard/).")
        parser.add_argument(
            "--check", action="store_true", help="Report the records the mapping refuses."
        )

    def handle(self, *args, **options) -> None:
        try:
            mapping = standard_mapping.load(options["mapping"])
        except standard_mapping.MappingError as exc:
            raise CommandError(str(exc)) from exc
        groups = options["group"] or []
        unknown = [g for g in groups if mapping.group(g) is None]
        if unknown:
            known = "、".join(g.code for g in mapping.groups)
            raise CommandError(f"没有组“{'、'.join(unknown)}”（可用：{known}）。")
        county = None
        if options["county"]:
            county = (
                Region.objects.filter(adcode=options["county"], level=Region.Level.DISTRICT)
                .values_list("pk", flat=True)
                .first()
            )
            if county is None:
                raise CommandError(f"没有县/区级行政区划代码“{options['county']}”。")
        tables = mapping.tables(groups)
        quiet = options["verbosity"] == 0
        if options["check"]:
            return self.report(mapping, tables, county)
        self.export(mapping, tables, county, options["format"], options["output"], quiet)

    def report(self, mapping, tables, county) -> None:
        report = scan(mapping, tables, county=county, keep=None)
        self.stdout.write(f"映射校核：{report.total} 处问题，涉及 {len(report.records)} 条记录。")
        if not report.total:
            return
        self.stdout.write("按县/区：")
        for (_pk, name), n in sorted(report.per_county.items(), key=lambda i: i[0][1]):
            self.stdout.write(f"  {name or '—'}\t{n}")
        self.stdout.write("按表、字段与问题：")
        for (table, field, kind), n in sorted(report.per_kind.items()):
            self.stdout.write(f"  {table}\t{field}\t{kind}\t{n}")
        self.stdout.write("问题清单（表\t记录\t县/区\t字段\t问题\t修改位置）：")
        for f in report.kept:
            where = f.url() or f.hint
            self.stdout.write(
                f"  {f.table_name}\t{f.record}\t{f.county or '—'}\t{f.field_name}\t"
                f"{f.kind_label}：{f.problem}\t{where}"
            )
        raise CommandError(f"有 {report.total} 处映射问题，修正后再导出。", returncode=1)

    def export(self, mapping, tables, county, fmt: str, output: str | None, quiet: bool) -> None:
        stamp = f"{timezone.localdate():%Y%m%d}"
        default = Path(f"standard-{stamp}.{'zip' if fmt == 'csv' else fmt}")
        target = Path(output) if output else default
        if target.is_dir() and fmt != "csv":
            target = target / default.name
        bars: dict[str, tqdm] = {}

        def progress(table):
            from insights.standard.records import count

            bar = tqdm(
                total=count(table, county=county),
                desc=f"{table.code} {table.name}",
                unit="行",
                disable=quiet,
            )
            bars[table.code] = bar
            return lambda: bar.update(1)

        run = Export(mapping, tables, county=county, progress=progress)
        if fmt == "csv" and target.suffix != ".zip":
            target.mkdir(parents=True, exist_ok=True)
            (target / "字段说明.csv").write_text("".join(run.fields_csv()), encoding="utf-8")
            for table in tables:
                self._atomic(target / f"{table.code}.csv", "w", run.csv_chunks(table))
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            if fmt == "json":
                self._atomic(target, "w", run.json_chunks())
            else:
                writer = run.write_csv_zip if fmt == "csv" else run.write_xlsx
                self._atomic(target, "wb", None, writer)
        for bar in bars.values():
            bar.close()
        exported, skipped = sum(run.exported.values()), sum(run.skipped.values())
        self.stdout.write(f"已导出 {exported} 行到 {target}。")
        if skipped:
            self.stdout.write(
                self.style.WARNING(f"{skipped} 条记录未通过映射校核而未导出：见 --check。")
            )

    @staticmethod
    def _atomic(path: Path, mode: str, chunks=None, writer=None) -> None:
        """Write next to `path` and rename at the end: nothing half-written stays behind."""
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".export-")
        try:
            encoding = {"encoding": "utf-8"} if "b" not in mode else {}
            with os.fdopen(handle, mode, **encoding) as out:
                if writer:
                    writer(out)
                else:
                    for chunk in chunks:
                        out.write(chunk)
            os.chmod(temporary, 0o644)
            os.replace(temporary, path)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
