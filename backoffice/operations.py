"""运营管理's front page and sub-navigation: every queue of running the housing (rent, re-check,
annual review, renewal, repairs, violations, inspections, exit, operator scores) with what
waits in each for the signed-in user."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from backoffice.pending import pending_work
from backoffice.views import staff_required

# (URL name, label): the order a clerk works in, money first.
QUEUES = [
    ("rent", _("租金")),
    ("recheck", _("动态核查")),
    ("annual-reviews", _("年审")),
    ("renewals", _("续租")),
    ("repairs", _("维修")),
    ("violations", _("违规处理")),
    ("inspections", _("网格巡查")),
    ("exits", pgettext_lazy("move-out", "退出")),
    ("evaluation", _("考核评价")),
]
PREFIXES = ("/staff/operations/", "/staff/inspections/")


def subnav(path: str) -> list[dict]:
    """The queues as links, the one holding `path` marked; [] outside 运营管理."""
    if not path.startswith(PREFIXES):
        return []
    links = [{"url": reverse(name), "label": label} for name, label in QUEUES]
    best = max(
        (link for link in links if path.startswith(link["url"])),
        key=lambda link: len(link["url"]),
        default=None,
    )
    for link in links:
        link["current"] = link is best
    return links


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    """What waits in each queue for this user, with links; then every queue."""
    work = [s for s in pending_work(request.user) if s.title in (_("运营管理"), _("合同签订"))]
    return render(request, "staff/operations/overview.html", {"work": work})
