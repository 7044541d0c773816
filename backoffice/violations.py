"""运营管理 · 违规处理: the case queue and each case's steps, the complaints to triage, the
arrears warnings and the utility data (import, units possibly idle) that become cases.

Everything is read through geo.jurisdiction.estate_scope (county staff their county, operators
their estates, grid workers their community), so anything outside it is a 404; every change is
a tenancy.services call, which writes the archive events.
"""

import time
import uuid
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import CharField, Count, Exists, F, OuterRef, Q, Value
from django.db.models.functions import Cast, Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

if TYPE_CHECKING:
    from backoffice.pending import Task

from archive.models import Event
from archive.services import record_access
from backoffice.exports import FORMATS, table_download
from backoffice.filters import parse_id, parse_month, query_without, visible_estates
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope
from geo.models import Unit
from housing.errors import NotAllowed
from tenancy.models import ArrearsWarning, Complaint, ViolationCase, ViolationKind
from tenancy.services import complaints, violations
from tenancy.utility_import import UtilityFileError, check, idle_rule, idle_unit_ids, latest_month

PAGE = 30
Status = ViolationCase.Status
READING_SCOPE = "unit__building__estate__"


def _files(request: HttpRequest, field: str = "photos") -> list[tuple[str, bytes]]:
    limit = violations.MAX_PHOTOS
    uploads = request.FILES.getlist(field)
    if len(uploads) > limit:
        raise NotAllowed(f"一次最多上传 {limit} 张照片。")
    return [(u.name, u.read(8 * 1024 * 1024 + 1)) for u in uploads]


# --- the queue ---------------------------------------------------------------------------------


def _filtered(request: HttpRequest, today: date):
    cases = violations.cases_for(request.user)
    status = request.GET.get("status", "open")
    if status == "open":
        cases = cases.exclude(status=Status.CLOSED)
    elif status in Status.values:
        cases = cases.filter(status=status)
    else:
        status = ""
    kind = request.GET.get("kind", "")
    if kind:
        cases = cases.filter(kind__code=kind)
    source = request.GET.get("source", "")
    if source in ViolationCase.Source.values:
        cases = cases.filter(source=source)
    else:
        source = ""
    estate = parse_id(request.GET.get("estate", ""))
    if estate:
        cases = cases.filter(unit__building__estate_id=estate)
    overdue = request.GET.get("overdue") == "1"
    if overdue:
        cases = cases.exclude(status=Status.CLOSED).filter(step_due__lt=today)
    filters = {
        "status": status,
        "kind": kind,
        "source": source,
        "estate": estate,
        "overdue": overdue,
    }
    return cases, filters


@staff_required
def queue(request: HttpRequest) -> HttpResponse:
    """Open cases first by the step deadline; overdue ones flagged; filters in the URL."""
    today = timezone.localdate()
    cases, filters = _filtered(request, today)
    # Open cases first, the nearest deadline on top; closed ones after, the latest first.
    cases = cases.select_related("kind", "unit__building__estate", "household").order_by(
        F("closed_at").desc(nulls_first=True), "step_due", "pk"
    )
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        return table_download(
            fmt,
            "违规案件",
            [
                str(_(h))
                for h in (
                    "案件编号",
                    "违规类型",
                    "线索来源",
                    "项目",
                    "房屋",
                    "承租人",
                    "状态",
                    "本环节期限",
                    "处理决定",
                    "结案结果",
                )
            ],
            (
                [
                    c.number,
                    c.kind.name,
                    c.get_source_display(),
                    c.unit.building.estate.name,
                    f"{c.unit.building.number} {c.unit.number}",
                    c.household.head_name if c.household else "",
                    c.get_status_display(),
                    c.step_due,
                    c.get_decision_display(),
                    c.get_outcome_display(),
                ]
                for c in cases.iterator(chunk_size=2000)
            ),
        )
    page = Paginator(cases, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/violations/queue.html",
        {
            "tab": "cases",
            "page": page,
            "page_query": query_without(request),
            "query": query_without(request),
            "today": today,
            "kinds": ViolationKind.objects.all(),
            "statuses": [("open", _("未结案")), *Status.choices],
            "sources": ViolationCase.Source.choices,
            "estates": visible_estates(request.user),
            **filters,
        },
    )


@staff_required
def detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_object_or_404(
        violations.cases_for(request.user).select_related(
            "kind", "unit__building__estate", "household", "contract", "opened_by", "decided_by"
        ),
        pk=case_id,
    )
    record_access(request, "violation", case.pk)
    today = timezone.localdate()
    events = Event.objects.filter(
        unit_id=case.unit_id, action__startswith="violation.", after__case=case.pk
    ).select_related("actor")
    return render(
        request,
        "staff/violations/detail.html",
        {
            "tab": "cases",
            "case": case,
            "records": case.records.select_related("created_by").prefetch_related("photos"),
            "events": events,
            "today": today,
            "overdue": case.is_overdue(today),
            "may_decide": violations.may_decide(request.user),
            "record_kinds": [(k, k.label) for k in violations.RECORD_KINDS.get(case.status, ())],
            "decisions": ViolationCase.Decision.choices,
            "complaints": complaints.repeated([case.unit_id]).get(case.unit_id, 0),
        },
    )


def _case(request: HttpRequest, case_id: int) -> ViolationCase:
    """The case if the user may see it; a 404 otherwise, before anything else is looked at."""
    return get_object_or_404(violations.cases_for(request.user).select_related("kind"), pk=case_id)


def _act(request: HttpRequest, case_id: int, action) -> HttpResponse:
    try:
        action()
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已保存。"))
    return redirect("violation", case_id=case_id)


@staff_required
@require_POST
def add_record(request: HttpRequest, case_id: int) -> HttpResponse:
    _case(request, case_id)

    def action():
        violations.add_record(
            case_id,
            kind=request.POST.get("kind", ""),
            text=request.POST.get("text", ""),
            photos=_files(request),
            actor=request.user,
        )

    return _act(request, case_id, action)


@staff_required
@require_POST
def conclude(request: HttpRequest, case_id: int) -> HttpResponse:
    _case(request, case_id)
    found = request.POST.get("found")
    if found not in ("yes", "no"):
        messages.error(request, _("调查结论：请选择是否认定违规。"))
        return redirect("violation", case_id=case_id)
    return _act(
        request,
        case_id,
        lambda: violations.conclude_investigation(
            case_id, found=found == "yes", reason=request.POST.get("reason", ""), actor=request.user
        ),
    )


@staff_required
@require_POST
def decide(request: HttpRequest, case_id: int) -> HttpResponse:
    case = _case(request, case_id)
    rectify_by = None
    if request.POST.get("rectify_by"):
        try:
            rectify_by = date.fromisoformat(request.POST["rectify_by"])
        except ValueError:
            messages.error(request, _("整改期限：日期格式有误。"))
            return redirect("violation", case_id=case_id)
    propose = request.POST.get("propose_credit") == "1"
    return _act(
        request,
        case_id,
        lambda: violations.decide(
            case_id,
            decision=request.POST.get("decision", ""),
            reason=request.POST.get("reason", ""),
            rectify_by=rectify_by,
            credit_conduct=case.kind.credit_conduct if propose else "",
            credit_reason=request.POST.get("credit_reason", ""),
            actor=request.user,
        ),
    )


@staff_required
@require_POST
def follow_up(request: HttpRequest, case_id: int) -> HttpResponse:
    _case(request, case_id)
    rectified = request.POST.get("rectified")
    if rectified not in ("yes", "no"):
        messages.error(request, _("复查结果：请选择是否已整改。"))
        return redirect("violation", case_id=case_id)
    return _act(
        request,
        case_id,
        lambda: violations.follow_up(
            case_id,
            rectified=rectified == "yes",
            text=request.POST.get("text", ""),
            actor=request.user,
        ),
    )


@staff_required
def photo(request: HttpRequest, case_id: int, sha256: str) -> HttpResponse:
    """A case photo, only to staff who may see the case."""
    from archive.documents import serve
    from archive.models import Document

    case = get_object_or_404(violations.cases_for(request.user), pk=case_id)
    document = get_object_or_404(
        Document.objects.filter(
            Q(pk__in=case.records.values("photos")),
        ),
        sha256=sha256,
    )
    return serve(request, document)


# --- complaints ----------------------------------------------------------------------------------


@staff_required
def complaint_list(request: HttpRequest) -> HttpResponse:
    rows = complaints.complaints_for(request.user).select_related(
        "estate", "unit__building", "kind"
    )
    status = request.GET.get("status", Complaint.Status.NEW)
    if status in Complaint.Status.values:
        rows = rows.filter(status=status)
    else:
        status = ""
    page = Paginator(rows.order_by("-created_at"), PAGE).get_page(request.GET.get("page"))
    counts = complaints.repeated(c.unit_id for c in page.object_list if c.unit_id)
    for c in page.object_list:
        c.repeats = counts.get(c.unit_id, 0)
    return render(
        request,
        "staff/violations/complaints.html",
        {
            "tab": "complaints",
            "page": page,
            "page_query": query_without(request),
            "status": status,
            "statuses": Complaint.Status.choices,
        },
    )


@staff_required
def complaint_detail(request: HttpRequest, complaint_id: int) -> HttpResponse:
    complaint = get_object_or_404(
        complaints.complaints_for(request.user).select_related(
            "estate", "unit__building", "kind", "case", "handled_by"
        ),
        pk=complaint_id,
    )
    record_access(request, "complaint", complaint.pk)
    if request.method == "POST":
        try:
            if request.POST.get("action") == "dismiss":
                complaints.dismiss(
                    complaint.pk, reason=request.POST.get("reason", ""), actor=request.user
                )
                messages.success(request, _("已作不予立案处理。"))
                return redirect("violation-complaints")
            case = complaints.open_case(
                complaint.pk,
                unit_id=parse_id(request.POST.get("unit", "")),
                kind_code=request.POST.get("kind", ""),
                actor=request.user,
            )
        except NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已立案。"))
            return redirect("violation", case_id=case.pk)
    units = (
        Unit.objects.filter(building__estate_id=complaint.estate_id)
        .select_related("building")
        .order_by("building__number", "number")
    )
    return render(
        request,
        "staff/violations/complaint.html",
        {
            "tab": "complaints",
            "complaint": complaint,
            "units": units,
            "kinds": ViolationKind.objects.filter(active=True),
            "repeats": complaints.repeated([complaint.unit_id]).get(complaint.unit_id, 0)
            if complaint.unit_id
            else 0,
        },
    )


# --- arrears -------------------------------------------------------------------------------------


def _open_case_for(prefix: str, ref) -> Exists:
    """Whether an open case was already made from this lead (its source_ref)."""
    return Exists(
        ViolationCase.objects.exclude(status=Status.CLOSED).filter(
            source_ref=Concat(Value(prefix), Cast(ref, CharField()))
        )
    )


def arrears_leads(user, months: int | None = None):
    """Open arrears warnings at or over the 拖欠租金 kind's months, in the user's jurisdiction,
    each with whether an open case was made from it."""
    if months is None:
        rule = ViolationKind.objects.filter(code="arrears").values_list("rule", flat=True).first()
        months = (rule or {}).get("months", 6)
    return (
        ArrearsWarning.objects.filter(
            estate_scope(user, "contract__unit__building__estate__"),
            resolved_at__isnull=True,
            months__gte=months,
        )
        .annotate(has_case=_open_case_for("arrears:", OuterRef("pk")))
        .select_related("contract__household", "contract__unit__building__estate")
        .order_by("has_case", "-months", "raised_at")
    )


@staff_required
def arrears(request: HttpRequest) -> HttpResponse:
    if request.method == "POST":
        try:
            case = violations.open_arrears_case(
                parse_id(request.POST.get("warning", "")) or 0, actor=request.user
            )
        except NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已立案。"))
            return redirect("violation", case_id=case.pk)
    leads = arrears_leads(request.user)
    pending = request.GET.get("pending") == "1"
    if pending:
        leads = leads.filter(has_case=False)
    page = Paginator(leads, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/violations/arrears.html",
        {"tab": "arrears", "page": page, "page_query": query_without(request), "pending": pending},
    )


# --- utility data --------------------------------------------------------------------------------


def _imports_dir() -> Path:
    path = Path(settings.MEDIA_ROOT) / "imports" / "utility"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _remove_stale() -> None:
    for path in _imports_dir().iterdir():
        try:
            if time.time() - path.stat().st_mtime > settings.ANJU_IMPORT_PLAN_MAX_AGE_SECONDS:
                path.unlink(missing_ok=True)
        except FileNotFoundError:
            continue


def may_import(user) -> bool:
    """Utility files come to the housing departments and operators, not to communities."""
    from geo.jurisdiction import may

    return may(user, "can_edit_stock")


@staff_required
def utility_import(request: HttpRequest) -> HttpResponse:
    """Upload a file, see every row checked; nothing is written until confirmed."""
    if not may_import(request.user):
        raise PermissionDenied(_("您的角色不能导入水电数据。"))
    _remove_stale()
    context: dict = {"tab": "utility"}
    if request.method == "POST":
        upload = request.FILES.get("file")
        suffix = Path(upload.name).suffix.lower() if upload else ""
        if upload is None:
            context["error"] = _("请选择要导入的文件。")
        elif suffix not in (".csv", ".xlsx"):
            context["error"] = _("请上传 CSV 或 XLSX 格式的文件。")
        elif upload.size > settings.ANJU_UPLOAD_MAX_BYTES:
            context["error"] = _("文件过大，请按月份拆分后分批导入。")
        else:
            stored = _imports_dir() / f"{request.user.pk}-{uuid.uuid4().hex}{suffix}"
            with stored.open("wb") as out:
                for chunk in upload.chunks():
                    out.write(chunk)
            plan = None
            try:
                plan = check(stored, user=request.user)
            except UtilityFileError as exc:
                context["error"] = str(exc)
            finally:
                if plan is None or not plan.ok:
                    stored.unlink(missing_ok=True)
            if plan is not None:
                context |= {"plan": plan, "token": stored.name, "filename": Path(upload.name).name}
    return render(request, "staff/violations/utility_import.html", context)


@staff_required
@require_POST
def utility_commit(request: HttpRequest) -> HttpResponse:
    if not may_import(request.user):
        raise PermissionDenied(_("您的角色不能导入水电数据。"))
    name = Path(request.POST.get("token", "")).name
    if not name.startswith(f"{request.user.pk}-"):
        raise PermissionDenied
    stored = _imports_dir() / name
    if not stored.is_file():
        messages.error(request, _("上传的文件已失效，请重新上传。"))
        return redirect("violation-utility-import")
    try:
        count = violations.import_readings(
            stored,
            filename=Path(request.POST.get("filename", "") or name).name[:150],
            actor=request.user,
        )
    except (UtilityFileError, NotAllowed) as exc:
        messages.error(request, str(exc))
        return redirect("violation-utility-import")
    finally:
        stored.unlink(missing_ok=True)
    messages.success(request, _("已导入 %(n)s 条水电读数。") % {"n": count})
    return redirect("violation-idle")


def idle_queryset(user, last: date, rule: dict | None = None):
    """Units flagged as possibly idle up to `last`, each with whether a 闲置 case is open."""
    scope = estate_scope(user, READING_SCOPE)
    open_idle = ViolationCase.objects.filter(unit=OuterRef("pk"), kind__code="idle").exclude(
        status=Status.CLOSED
    )
    return (
        Unit.objects.filter(pk__in=idle_unit_ids(scope, last, rule))
        .annotate(has_case=Exists(open_idle))
        .select_related("building__estate")
        .order_by("building__estate__name", "building__number", "number")
    )


def idle_leads(user, last: date | None, pending: bool = False) -> list[dict]:
    """The flagged units as rows for the list ({"unit", "has_case"}); none before any import."""
    if last is None:
        return []
    units = idle_queryset(user, last)
    if pending:
        units = units.filter(has_case=False)
    return [{"unit": u, "has_case": u.has_case} for u in units]


@staff_required
def idle(request: HttpRequest) -> HttpResponse:
    """Units below the near-zero thresholds in every month of the window; staff open 闲置
    cases from here after a look."""
    scope = estate_scope(request.user, READING_SCOPE)
    last = parse_month(request.GET.get("month", "")) or latest_month(scope)
    if request.method == "POST":
        last = parse_month(request.POST.get("month", "")) or last
        try:
            case = violations.open_idle_case(
                parse_id(request.POST.get("unit", "")) or 0, last=last, actor=request.user
            )
        except NotAllowed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("已立案。"))
            return redirect("violation", case_id=case.pk)
    return render(
        request,
        "staff/violations/idle.html",
        {
            "tab": "idle",
            "last": last,
            "rule": idle_rule(),
            "rows": idle_leads(request.user, last, pending=request.GET.get("pending") == "1"),
            "pending": request.GET.get("pending") == "1",
            "may_import": may_import(request.user),
        },
    )


# --- the staff home ------------------------------------------------------------------------------


def pending_tasks(user) -> list["Task"]:
    """Cases with a step past its deadline, open cases, new complaints, units flagged idle
    without a case and arrears warnings without one, each linking to its list (six queries)."""
    from backoffice.pending import Task  # pending imports this module to list the tasks

    today = timezone.localdate()
    counts = (
        violations.cases_for(user)
        .exclude(status=Status.CLOSED)
        .order_by()
        .aggregate(open=Count("pk"), overdue=Count("pk", filter=Q(step_due__lt=today)))
    )
    rules = dict(
        ViolationKind.objects.filter(code__in=("idle", "arrears")).values_list("code", "rule")
    )
    last = latest_month(estate_scope(user, READING_SCOPE))
    idle_count = (
        idle_queryset(user, last, idle_rule(rules.get("idle"))).filter(has_case=False).count()
        if last
        else 0
    )
    queue = reverse("violations")
    return [
        Task(_("违规案件：环节已超期"), counts["overdue"], f"{queue}?overdue=1", urgent=True),
        Task(_("违规案件：未结案"), counts["open"], queue),
        Task(
            _("待处理的群众举报"),
            complaints.complaints_for(user).filter(status=Complaint.Status.NEW).count(),
            reverse("violation-complaints"),
        ),
        Task(
            _("水电数据疑似闲置、未立案的房屋"),
            idle_count,
            reverse("violation-idle") + "?pending=1",
        ),
        Task(
            _("欠租达到违规标准、未立案的合同"),
            arrears_leads(user, (rules.get("arrears") or {}).get("months", 6))
            .filter(has_case=False)
            .count(),
            reverse("violation-arrears") + "?pending=1",
        ),
    ]
