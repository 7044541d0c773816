"""manage.py recheck_tenants [--batch N]: 动态核查 of every tenant household now, with a
progress bar; an interrupted run is resumed where it stopped."""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from housing.errors import NotAllowed
from tenancy.models import RecheckRun
from tenancy.services import recheck


class Command(BaseCommand):
    help = "动态核查：向各部门批量查询全部在租家庭，按所在区县的准入条件比对，记录疑点。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--batch", type=int, default=recheck.BATCH, help="每批核查的家庭数（批量查询）"
        )

    def handle(self, *args, batch: int, **options) -> None:
        if batch < 1:
            raise CommandError("--batch 至少为 1。")
        show = options["verbosity"] > 0
        bars: list[tqdm] = []

        def progress(done: int, total: int) -> None:
            if not bars:  # made once the total is known (a resumed run starts part-way)
                bars.append(tqdm(total=total, initial=done, unit="户", desc="动态核查"))
            bars[0].update(done - bars[0].n)

        try:
            run = recheck.run_recheck(actor=None, batch=batch, progress=progress if show else None)
        except NotAllowed as exc:
            raise CommandError(str(exc)) from exc
        finally:
            for bar in bars:
                bar.close()
        message = (
            f"核查 {run.done}/{run.total} 户：新增疑点 {run.hits_new} 条，"
            f"仍存在 {run.hits_refreshed} 条，已恢复符合 {run.hits_cleared} 条。"
        )
        if run.status == RecheckRun.Status.INTERRUPTED:
            raise CommandError(f"核查中断（{run.error}）。{message}再次运行将从中断处继续。")
        self.stdout.write(self.style.SUCCESS(message))
