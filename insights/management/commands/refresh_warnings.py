"""manage.py refresh_warnings: run the hourly warning refresh now, one progress line per rule."""

from django.core.management.base import BaseCommand, CommandError

from insights.warnings.refresh import Outcome, refresh
from insights.warnings.rules import RulesError, load_rules


class Command(BaseCommand):
    help = "按预警规则刷新预警：新增、更新、条件消除后自动解除。"

    def handle(self, *args, **options) -> None:
        try:
            rules = load_rules()
        except RulesError as exc:
            raise CommandError(str(exc)) from exc
        total = len(rules)
        done = 0

        def progress(outcome: Outcome) -> None:
            nonlocal done
            done += 1
            self.stdout.write(
                f"[{done}/{total}] {rules[outcome.rule].name}：现有 {outcome.found}，"
                f"新增 {outcome.raised}，自动解除 {outcome.cleared}"
            )

        refresh(progress=progress)
        self.stdout.write(self.style.SUCCESS("预警刷新完成。"))
