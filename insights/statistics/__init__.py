"""统计分析: one function per dashboard, each (scope, period) → a Dashboard of tables.

The back office draws them (backoffice/statistics.py); the registry below is the one list of
dashboards, in the order the overview shows them.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from insights.statistics.applications import applications, decisions, review
from insights.statistics.base import Dashboard, Period, Scope, Table
from insights.statistics.credit import credit
from insights.statistics.operations import recheck, repairs
from insights.statistics.operators import operators
from insights.statistics.rent import rent
from insights.statistics.stock import vacancy
from insights.statistics.waitlist import waitlist


@dataclass(frozen=True)
class Entry:
    slug: str
    title: Promise
    purpose: Promise
    build: Callable[[Scope, Period], Dashboard]


DASHBOARDS = {
    e.slug: e
    for e in [
        Entry("applications", _("申请受理"), _("按环节与月份统计的申请"), applications),
        Entry("review", _("审核时效"), _("各审核环节用时与时限"), review),
        Entry("decisions", _("审批通过率"), _("通过率与未通过原因"), decisions),
        Entry("waitlist", _("轮候与摇号"), _("轮候户数、等待时长与摇号批次"), waitlist),
        Entry("vacancy", _("房源空置"), _("按区县与项目的空置率与空置天数（地图）"), vacancy),
        Entry("rent", _("租金收缴"), _("收缴率与欠费"), rent),
        Entry("repairs", _("维修响应"), _("维修响应与完工时长"), repairs),
        Entry("recheck", _("动态核查"), _("核查疑点及处理"), recheck),
        Entry("credit", _("失信记录"), _("按等级与区县的失信记录"), credit),
        Entry("operators", _("运营单位考核"), _("运营单位季度得分"), operators),
    ]
}

__all__ = ["DASHBOARDS", "Dashboard", "Entry", "Period", "Scope", "Table"]
