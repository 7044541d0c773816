"""manage.py import_stock FILE --as USER [--crs gcj02] [--commit]: big stock files from a shell.

Checks like the back office does, in the user's jurisdiction, with a progress bar; a dry run
unless --commit, and all or nothing.
"""

from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from geo import crs, services
from geo.jurisdiction import may, region_scope
from geo.models import Estate, Region
from geo.stock_import import StockFileError, plan_stock_file


class Command(BaseCommand):
    help = "导入房源文件（与后台“导入房源”相同的检查）。默认只检查；加 --commit 才写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--as", dest="username", required=True, help="以哪个工作人员的身份与管辖范围导入"
        )
        parser.add_argument("--crs", default="wgs84", choices=[c for c, _ in crs.CRS_CHOICES])
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args, file: Path, username: str, crs: str, commit: bool, **options) -> None:
        try:
            user = get_user_model().objects.get(username=username)
        except get_user_model().DoesNotExist as exc:
            raise CommandError(f"没有用户 {username}") from exc
        if not may(user, "can_edit_stock"):
            raise CommandError(f"{username} 的角色不能维护房源。")
        show = options["verbosity"] > 0
        with tqdm(desc="检查", unit="行", disable=not show) as bar:
            try:
                plan = plan_stock_file(
                    file,
                    crs,
                    visible_estates=Estate.objects.visible_to(user),
                    districts_in_scope=Region.objects.filter(
                        region_scope(user), level=Region.Level.DISTRICT
                    ),
                    progress=bar.update,
                )
            except StockFileError as exc:
                raise CommandError(str(exc)) from exc
        for problem in plan.problems:
            self.stderr.write(("已修复 " if problem.repaired else "问题 ") + str(problem))
        self.stdout.write(
            f"共 {plan.row_count} 行，可导入 {len(plan.rows)} 行；"
            f"新项目 {len(plan.new_estates)} 个；将更新已有房屋 {plan.existing_units} 套。"
        )
        if plan.errors:
            raise CommandError(f"发现 {len(plan.errors)} 个问题，未写入任何数据。")
        if not commit:
            self.stdout.write("试运行：未写入。加 --commit 导入。")
            return
        result = services.import_stock(plan, actor=user)
        self.stdout.write(
            self.style.SUCCESS(
                "导入完成：新项目 {estates} 个，新楼栋 {buildings} 栋，新房屋 {created} 套，"
                "更新房屋 {updated} 套。".format(**result)
            )
        )
