"""manage.py load_rules FILE [--commit]: each county's eligibility rules and review settings."""

import json
from decimal import Decimal, InvalidOperation
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from geo.models import Region
from housing.models import CountyPolicy, EligibilityRule


class Command(BaseCommand):
    help = (
        "导入各区县的准入条件与公示期（JSON）。默认只检查；加 --commit 写入（整体替换该区县规则）。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--commit", action="store_true")

    def handle(self, *args, file: Path, commit: bool, **options) -> None:
        try:
            data = json.loads(file.read_text(encoding="utf-8"))["counties"]
        except (OSError, ValueError, KeyError) as exc:
            raise CommandError(f"{file}：不是有效的规则文件（{exc}）") from exc
        plan, errors = [], []
        criteria, operators = EligibilityRule.Criterion.values, EligibilityRule.Operator.values
        for adcode, conf in data.items():
            county = Region.objects.filter(adcode=adcode, level=Region.Level.DISTRICT).first()
            if county is None:
                errors.append(f"区县 {adcode}：不存在")
                continue
            days = conf.get("publicity_working_days", 7)
            if not isinstance(days, int) or days < 7:
                errors.append(f"区县 {adcode}：公示期不得少于 7 个工作日")
            for i, rule in enumerate(conf.get("rules", []), start=1):
                where = f"区县 {adcode} 第 {i} 条"
                if rule.get("criterion") not in criteria:
                    errors.append(f"{where}：未知条件 {rule.get('criterion')}")
                if rule.get("operator") not in operators:
                    errors.append(f"{where}：比较方式应为 lte 或 gte")
                try:
                    Decimal(str(rule.get("threshold")))
                except InvalidOperation:
                    errors.append(f"{where}：标准值不是数字")
            plan.append((county, days, conf.get("rules", [])))
        for error in errors:
            self.stderr.write(error)
        if errors:
            raise CommandError(f"{len(errors)} 处问题，未写入。")
        if not commit:
            self.stdout.write(f"试运行：{len(plan)} 个区县的规则有效。加 --commit 写入。")
            return
        with transaction.atomic():
            for county, days, rules in plan:
                CountyPolicy.objects.update_or_create(
                    county=county, defaults={"publicity_working_days": days}
                )
                EligibilityRule.objects.filter(county=county).delete()
                EligibilityRule.objects.bulk_create(
                    EligibilityRule(
                        county=county,
                        criterion=r["criterion"],
                        operator=r["operator"],
                        threshold=Decimal(str(r["threshold"])),
                        unit=r.get("unit", ""),
                    )
                    for r in rules
                )
        if options["verbosity"]:
            self.stdout.write(self.style.SUCCESS(f"已写入 {len(plan)} 个区县的规则。"))
