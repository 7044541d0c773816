"""manage.py load_regions FILE [--commit] [--srid N]: administrative boundaries from GeoJSON."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from geo.region_import import RegionFileError, read_region_file
from geo.services import upsert_regions


class Command(BaseCommand):
    help = "导入行政区划边界（GeoJSON）。默认只检查不写入；加 --commit 才写入，且全部成功才写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true", help="写入数据库（默认试运行）")
        parser.add_argument(
            "--srid", type=int, help="文件坐标系的 EPSG 代码（默认按文件声明或 4326）"
        )

    def handle(self, *args, file: Path, commit: bool, srid: int | None, **options) -> None:
        try:
            parsed = read_region_file(file, srid=srid)
        except RegionFileError as exc:
            raise CommandError(f"{file}：{exc}") from exc
        for error in parsed.errors:
            self.stderr.write(f"拒绝 {error}")
        if parsed.errors:
            raise CommandError(f"{len(parsed.errors)} 个要素有问题，未写入任何数据。")
        if not commit:
            self.stdout.write(
                f"试运行：{len(parsed.records)} 个要素全部有效。加 --commit 写入数据库。"
            )
            return
        result = upsert_regions(parsed.records)
        self.stdout.write(
            self.style.SUCCESS(f"已写入：新增 {result.created} 个，更新 {result.updated} 个区域。")
        )
