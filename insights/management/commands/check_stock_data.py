"""`manage.py check_stock_data`: the stock-data faults of the whole database, counted per kind
(the back office's 存量数据校核 lists them one by one, per jurisdiction)."""

from django.core.management.base import BaseCommand, CommandParser
from tqdm import tqdm

from insights import checks


class Command(BaseCommand):
    help = "Count the stock-data faults per kind before the national standard export."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--kind",
            action="append",
            choices=list(checks.BY_CODE),
            help="Only these kinds (repeatable); all by default.",
        )

    def handle(self, *args, **options) -> None:
        scope = checks.Scope.everything()
        kinds = [k for k in checks.KINDS if not options["kind"] or k.code in options["kind"]]
        found: dict[str, int] = {}
        bar = tqdm(kinds, unit="类", desc="存量数据校核", disable=options["verbosity"] == 0)
        for kind in bar:
            bar.set_postfix_str(str(kind.label))
            if kind.code in checks.PYTHON_KINDS:
                found[kind.code] = len(checks.id_faults(scope))
            else:
                found[kind.code] = sum(n for *_rest, n in checks.counts(scope, [kind.code]))
        width = max(len(str(k.label)) for k in kinds)
        for kind in kinds:
            self.stdout.write(f"{kind.label!s:　<{width}}  {found[kind.code]:>8}")
        self.stdout.write(f"{'合计':　<{width}}  {sum(found.values()):>8}")
