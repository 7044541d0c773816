"""运营管理 · 动态核查: the queue of re-check hits in the user's jurisdiction (filters in the
URL), one hit with its evidence in Chinese and the county's decision on it, and the history
of runs. Decisions go through tenancy.services.recheck, which writes the archive events.
"""

import time
from datetime import datetime

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access, record_event
from backoffice.exports import FORMATS, table_download
from backoffice.filters import parse_id, query_without
from backoffice.views import staff_required
from exchange.synthetic import DEPARTMENTS
from geo.models import Region
from housing.errors import NotAllowed
from housing.models import EligibilityRule
from tenancy.models import RecheckHit, RecheckRun
from tenancy.services import recheck

PAGE = 30
Status = RecheckHit.Status

# Department fields, as staff read them.
FIELD_LABELS = {
    "monthly_income": _("月收入（元）"),
    "properties": _("名下房产"),
    "vehicles": _("名下机动车"),
    "businesses": _("登记企业"),
    "hukou_since": _("户籍迁入年份"),
    "insured_months": _("社保缴纳月数"),
}

ACTIONS = {
    "dismiss": (recheck.dismiss, _("已核实为误报，疑点关闭。")),
    "exit": (recheck.start_exit, _("已启动退出程序。")),
    "case": (recheck.open_case, _("已违规立案。")),
}


class DecisionForm(forms.Form):
    action = forms.ChoiceField(
        label=_("处理方式"),
        choices=[
            ("dismiss", _("核实无误（误报）：家庭仍符合条件")),
            ("exit", _("启动退出：家庭已不再符合保障条件")),
            ("case", _("违规立案：隐瞒收入、住房等情况")),
        ],
        widget=forms.RadioSelect,
    )
    reason = forms.CharField(
        label=_("处理意见"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("说明核实经过和依据，将记入一户一档。"),
    )


def _export_hits(fmt: str, hits) -> HttpResponse:
    """The filtered queue as CSV or XLSX (no cell runs as a formula)."""
    header = [
        str(_(h))
        for h in (
            "合同编号",
            "承租人",
            "项目",
            "房屋",
            "区县",
            "条件",
            "查得",
            "标准",
            "数据来源部门",
            "发现时间",
            "核查次数",
            "状态",
        )
    ]
    rows = (
        [
            h.contract.number,
            h.household.head_name,
            h.contract.unit.building.estate.name,
            f"{h.contract.unit.building.number} {h.contract.unit.number}",
            h.county.name,
            h.finding["label"],
            f"{h.finding['found']}{h.finding['unit']}",
            f"{h.finding['operator']} {h.finding['threshold']}{h.finding['unit']}",
            DEPARTMENTS.get(h.department, h.department),
            f"{h.first_seen_at:%Y-%m-%d}",
            h.seen_count,
            h.get_status_display(),
        ]
        for h in hits.iterator(chunk_size=2000)
    )
    return table_download(fmt, "动态核查疑点", header, rows)


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _item(label, value) -> dict:
    return {"label": label, "value": value}


def readable(hit: RecheckHit) -> list[dict]:
    """The department's answer as label/value lines in Chinese (lists spelled out)."""
    lines = []
    for field, value in (hit.evidence.get("fields") or {}).items():
        label = FIELD_LABELS.get(field, field)
        if field == "properties":
            text = "；".join(f"{p.get('address', '')} {p.get('area', '')}㎡" for p in value or [])
        elif field == "vehicles":
            text = "；".join(
                f"{v.get('plate', '')} 价值 {v.get('value', '')} 元" for v in value or []
            )
        elif field == "businesses":
            text = "；".join(f"{b.get('name', '')}（{b.get('role', '')}）" for b in value or [])
        else:
            text = "" if value is None else str(value)
        lines.append(_item(label, text or _("无")))
    lines.append(_item(_("户籍登记家庭人口"), hit.evidence.get("members")))
    return lines


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """Hits to judge (open by default), filterable by county, rule, department and status."""
    hits = recheck.hits_for(request.user)
    counties = Region.objects.filter(pk__in=hits.values("county_id")).order_by("adcode")
    status = request.GET.get("status", Status.OPEN)
    if status in Status.values:
        hits = hits.filter(status=status)
    else:
        status = ""
    county = parse_id(request.GET.get("county", ""))
    if county:
        hits = hits.filter(county_id=county)
    rule = request.GET.get("rule", "")
    if rule in EligibilityRule.Criterion.values:
        hits = hits.filter(criterion=rule)
    else:
        rule = ""
    department = request.GET.get("department", "")
    if department in DEPARTMENTS:
        hits = hits.filter(department=department)
    else:
        department = ""
    q = request.GET.get("q", "").strip()[:40]
    if q:
        hits = hits.filter(Q(contract__number__icontains=q) | Q(household__head_name__contains=q))
    hits = (
        hits.select_related("household", "county", "contract__unit__building__estate")
        .defer("evidence")
        .order_by("-first_seen_at", "-pk")
    )
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        return _export_hits(fmt, hits)
    page = Paginator(hits, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/recheck/queue.html",
        {
            "tab": "queue",
            "page": page,
            "page_query": query_without(request),
            "status": status,
            "statuses": Status.choices,
            "county": county,
            "counties": counties,
            "rule": rule,
            "rules": EligibilityRule.Criterion.choices,
            "department": department,
            "departments": list(DEPARTMENTS.items()),
            "q": q,
            "latest": recheck.latest_run(),
            "query": query_without(request),
        },
    )


@staff_required
def detail(request: HttpRequest, hit_id: int) -> HttpResponse:
    hit = get_object_or_404(
        recheck.hits_for(request.user).select_related(
            "household", "county", "contract__unit__building__estate", "resolved_by"
        ),
        pk=hit_id,
    )
    record_access(request, "recheck_hit", hit.pk)
    may = recheck.may_decide(request.user) and hit.status == Status.OPEN
    others = (
        RecheckHit.objects.filter(household_id=hit.household_id)
        .exclude(pk=hit.pk)
        .defer("evidence")
        .order_by("-first_seen_at")[:10]
    )
    return render(
        request,
        "staff/recheck/detail.html",
        {
            "tab": "queue",
            "hit": hit,
            "sentence": recheck.describe(hit.finding),
            "fetched_at": _moment(hit.evidence.get("fetched_at")),
            "department": DEPARTMENTS.get(hit.department, hit.department),
            "lines": readable(hit),
            "form": DecisionForm() if may else None,
            "others": others,
        },
    )


@staff_required
@require_POST
def decide(request: HttpRequest, hit_id: int) -> HttpResponse:
    hit = get_object_or_404(recheck.hits_for(request.user), pk=hit_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        errors = "；".join(str(e) for errs in form.errors.values() for e in errs)
        messages.error(request, _("请选择处理方式并填写处理意见：%(e)s") % {"e": errors})
        return redirect("recheck-hit", hit_id=hit.pk)
    action, done = ACTIONS[form.cleaned_data["action"]]
    try:
        action(hit.pk, reason=form.cleaned_data["reason"], actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("recheck-hit", hit_id=hit.pk)
    messages.success(request, done)
    return redirect("recheck")


@staff_required
def runs(request: HttpRequest) -> HttpResponse:
    """The latest runs: how far each got, what it found, and why an interrupted one stopped."""
    return render(
        request,
        "staff/recheck/runs.html",
        {
            "tab": "runs",
            "runs": RecheckRun.objects.select_related("resumed_from")[:30],
            "may_start": recheck.may_decide(request.user),
        },
    )


@staff_required
@require_POST
def run_now(request: HttpRequest) -> HttpResponse:
    """立即核查: the daily job queued now for the worker (once: a queued one is not doubled)."""
    from procrastinate.exceptions import AlreadyEnqueued

    from tenancy.tasks import recheck_tenants

    if not recheck.may_decide(request.user):
        raise PermissionDenied(_("只有市、县（区）住房保障部门可以发起动态核查。"))
    try:
        with transaction.atomic():  # a refused duplicate must not spoil the request
            recheck_tenants.defer(timestamp=int(time.time()))
    except AlreadyEnqueued:
        messages.info(request, _("动态核查已在排队，稍后刷新本页查看进度。"))
    else:
        record_event(
            "recheck.requested",
            "发起动态核查（后台任务）",
            actor=request.user,
            after={"task": "tenancy.tasks.recheck_tenants"},
        )
        messages.success(request, _("已发起动态核查，后台任务完成后刷新本页查看结果。"))
    return redirect("recheck-runs")


def pending_tasks(user) -> list:
    """For the staff home: open hits in the user's jurisdiction, and an interrupted run
    (a list of backoffice.pending.Task, imported here: pending imports this module)."""
    from backoffice.pending import Task

    counts = (
        recheck.hits_for(user)
        .filter(status=Status.OPEN)
        .order_by()
        .aggregate(n=Count("pk"), counties=Count("county", distinct=True))
    )
    tasks = [
        Task(
            _("待核实的动态核查疑点"),
            counts["n"],
            reverse("recheck"),
            note=_("%(n)s 个县（区）") % {"n": counts["counties"]} if counts["n"] else "",
        )
    ]
    latest = recheck.latest_run()
    if latest is not None and latest.status == RecheckRun.Status.INTERRUPTED:
        tasks.append(
            Task(
                _("动态核查已中断，待下次接续"),
                1,
                reverse("recheck-runs"),
                note=latest.error[:60],
                urgent=True,
            )
        )
    return tasks
