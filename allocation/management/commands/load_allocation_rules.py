"""manage.py load_allocation_rules FILE [--commit]: each county's waitlist and allocation rules."""

import json
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from allocation.models import AllocationPolicy
from allocation.rules import policy_errors
from geo.models import Region


class Command(BaseCommand):
    help = "导入各区县的轮候与配租规则（JSON）。默认只检查；加 --commit 写入。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args, file: Path, commit: bool, **options) -> None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))["counties"]
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"{file}：不是有效的规则文件（{exc}）") from exc
        plan, errors = [], []
        for adcode, conf in data.items():
            county = Region.objects.filter(adcode=adcode, level=Region.Level.DISTRICT).first()
            if county is None:
                errors.append(f"区县 {adcode}：不存在")
                continue
            if not isinstance(conf, dict):
                errors.append(f"区县 {adcode}：规则应为对象")
                continue
            errors += [f"区县 {adcode} {problem}" for problem in policy_errors(conf)]
            plan.append((county, conf))
        for error in errors:
            self.stderr.write(error)
        if errors:
            raise CommandError(f"{len(errors)} 处问题，未写入。")
        if not commit:
            self.stdout.write(f"试运行：{len(plan)} 个区县的配租规则有效。加 --commit 写入。")
            return
        with transaction.atomic():
            for county, conf in plan:
                AllocationPolicy.objects.update_or_create(county=county, defaults=conf)
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS(f"已写入 {len(plan)} 个区县的配租规则。"))
