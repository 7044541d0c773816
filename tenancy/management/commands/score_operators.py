"""manage.py score_operators --quarter 2026Q3: compute every operator's score for a quarter."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from housing.errors import NotAllowed
from tenancy.services import evaluation


class Command(BaseCommand):
    help = "计算运营单位季度考核得分（默认上一季度；已公开的季度不能重算）"

    def add_arguments(self, parser) -> None:
        parser.add_argument("--quarter", help="如 2026Q3；默认上一季度")

    def handle(self, *args, quarter: str | None = None, **options) -> None:
        name = quarter or evaluation.Quarter.of(timezone.localdate()).previous().name
        try:
            scores = evaluation.score_operators(name, actor=None)
        except NotAllowed as exc:
            raise CommandError(str(exc)) from exc
        for s in sorted(scores, key=lambda s: (s.score is None, -(s.score or 0))):
            self.stdout.write(f"{s.operator.name}\t{s.score if s.score is not None else '—'}")
        self.stdout.write(self.style.SUCCESS(f"{name}: {len(scores)} 家运营单位"))
