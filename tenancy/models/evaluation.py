"""考核评价: a city's weights and targets for operator scores (data, from
data/evaluation-weights.json) and each operator's quarterly score from measured facts."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from geo.models import Operator, Region


class EvaluationRules(models.Model):
    """One city's metrics with weight, direction and the values scoring 0 and 100."""

    city = models.OneToOneField(
        Region, verbose_name=_("城市"), on_delete=models.PROTECT, primary_key=True
    )
    metrics = models.JSONField(_("指标、权重与目标"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("考核规则")
        verbose_name_plural = _("考核规则")

    def __str__(self) -> str:
        return f"{self.city} 考核规则"


class OperatorScoreQuerySet(models.QuerySet):
    def published(self) -> "OperatorScoreQuerySet":
        """The only scores the public may see."""
        return self.filter(published_at__isnull=False)


class OperatorScore(models.Model):
    """An operator's score for one quarter, with the metric values it was computed from."""

    operator = models.ForeignKey(
        Operator, verbose_name=_("运营单位"), on_delete=models.PROTECT, related_name="scores"
    )
    quarter = models.CharField(_("季度"), max_length=6)  # 2026Q3
    metrics = models.JSONField(_("指标"))
    score = models.DecimalField(_("得分"), max_digits=5, decimal_places=1, null=True)
    units = models.PositiveIntegerField(_("房屋套数"), default=0)
    computed_at = models.DateTimeField(_("计算时间"))
    published_at = models.DateTimeField(_("公开时间"), null=True, blank=True)

    objects = OperatorScoreQuerySet.as_manager()

    class Meta:
        verbose_name = _("运营单位考核得分")
        verbose_name_plural = _("运营单位考核得分")
        ordering = ["-quarter", "-score"]
        constraints = [
            models.UniqueConstraint(fields=["operator", "quarter"], name="one_score_per_quarter"),
            models.CheckConstraint(
                condition=Q(quarter__regex=r"^[0-9]{4}Q[1-4]$"), name="score_quarter_format"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.operator} {self.quarter}"
