"""信用管理 in /staff/: proposals and their objection period, 认定, records and repair, the
city-wide query, counts by level and county and by month, and the evidence files (each view
checked against the proposal's county and logged).

County and city departments decide within their area (elsewhere a proposal or record is 404);
every staff member may ask the city-wide question, which is logged with its purpose.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive import documents
from archive.client_ip import client_ip
from archive.services import record_access
from backoffice.exports import FORMATS, table_download
from backoffice.pending import Task
from backoffice.views import staff_required
from credit import evidence, letters, selectors, services
from credit.evidence import EvidenceRejected
from credit.models import Conduct, Level, Proposal, Record, Repair, Subject
from credit.services import CreditError
from disclosure.masking import mask_id_number
from geo.jurisdiction import profile_of, region_scope
from geo.models import Region
from housing.inbox import notify_household
from housing.models import Household

DECIDING_ROLES = ("city", "district")
TABS = {
    "due": _("异议期满、待认定"),
    "objected": _("有异议、待答复"),
    "notified": _("异议期内"),
    "decided": _("已办结"),
}


def may_decide(user) -> bool:
    profile = profile_of(user)
    return user.is_superuser or (profile is not None and profile.role in DECIDING_ROLES)


def _counties(user):
    return Region.objects.filter(region_scope(user), level=Region.Level.DISTRICT)


def _proposals(user):
    """Proposals of counties in the user's area; nobody else's (404 outside)."""
    if not may_decide(user):
        return Proposal.objects.none()
    return Proposal.objects.filter(county__in=_counties(user)).select_related(
        "subject", "conduct", "county"
    )


def _records(user):
    if not may_decide(user):
        return Record.objects.none()
    return Record.objects.filter(county__in=_counties(user)).select_related(
        "subject", "conduct", "county"
    )


def _tab_q(tab: str) -> Q:
    today = timezone.localdate()
    return {
        "due": Q(status=Proposal.Status.NOTIFIED, objection_until__lt=today),
        "objected": Q(status=Proposal.Status.OBJECTED),
        "notified": Q(status=Proposal.Status.NOTIFIED, objection_until__gte=today),
        "decided": Q(status__in=[Proposal.Status.CONFIRMED, Proposal.Status.REJECTED]),
    }[tab]


def pending_tasks(user) -> list[Task]:
    """For the staff home: proposals to decide, objections to answer, repairs to review."""
    if not may_decide(user):
        return []
    counts = (
        _proposals(user)
        .order_by()
        .aggregate(
            due=Count("pk", filter=_tab_q("due")), objected=Count("pk", filter=_tab_q("objected"))
        )
    )
    repairs = Repair.objects.filter(
        record__county__in=_counties(user), status=Repair.Status.PENDING
    ).count()
    listing = reverse("credit-proposals")
    return [
        Task(_("异议期满、待认定的失信"), counts["due"], f"{listing}?tab=due"),
        Task(_("当事人有异议、待答复"), counts["objected"], f"{listing}?tab=objected", urgent=True),
        Task(_("待审核的信用修复"), repairs, reverse("credit-records") + "?status=repairing"),
    ]


@staff_required
def home(request: HttpRequest) -> HttpResponse:
    """Counts in effect by level and county (a table with bars), and the work waiting."""
    today = timezone.localdate()
    in_effect = Record.objects.filter(Record.in_effect_q(today))
    if may_decide(request.user):
        in_effect = in_effect.filter(county__in=_counties(request.user))
    rows = list(
        in_effect.values("county__name")
        .annotate(
            total=Count("pk"),
            **{level: Count("pk", filter=Q(level=level)) for level in Level.values},
        )
        .order_by("-total")
    )
    top = max((r["total"] for r in rows), default=0)
    return render(
        request,
        "staff/credit/home.html",
        {
            "rows": rows,
            "top": top,
            "levels": Level.choices,
            "totals": {level: sum(r[level] for r in rows) for level in Level.values},
            "tasks": pending_tasks(request.user),
            "may_decide": may_decide(request.user),
        },
    )


@staff_required
def proposal_list(request: HttpRequest) -> HttpResponse:
    if not may_decide(request.user):
        raise PermissionDenied(_("失信认定由县（区）和市住房保障部门办理。"))
    tab = request.GET.get("tab") if request.GET.get("tab") in TABS else "due"
    rows = _proposals(request.user).filter(_tab_q(tab)).order_by("objection_until", "pk")
    counts = {t: _proposals(request.user).filter(_tab_q(t)).count() for t in TABS if t != "decided"}
    return render(
        request,
        "staff/credit/proposals.html",
        {
            "tab": tab,
            "tabs": [(k, v, counts.get(k)) for k, v in TABS.items()],
            "page": Paginator(rows, 30).get_page(request.GET.get("page")),
        },
    )


def _shown_number(subject: Subject) -> str:
    if subject.kind == Subject.Kind.ORGANISATION:
        return subject.credit_code
    return mask_id_number(subject.id_number)


class DecisionForm(forms.Form):
    text = forms.CharField(
        label=_("意见"), widget=forms.Textarea(attrs={"rows": 3}), min_length=4, max_length=2000
    )


@staff_required
def proposal_detail(request: HttpRequest, proposal_id: int) -> HttpResponse:
    proposal = get_object_or_404(_proposals(request.user), pk=proposal_id)
    record_access(request, "credit_proposal", proposal.pk)
    today = timezone.localdate()
    return render(
        request,
        "staff/credit/proposal.html",
        {
            "p": proposal,
            "number": proposal.subject.id_number or proposal.subject.credit_code,
            "open": proposal.status in (Proposal.Status.NOTIFIED, Proposal.Status.OBJECTED),
            "in_period": proposal.status == Proposal.Status.NOTIFIED
            and today <= proposal.objection_until,
            "record": getattr(proposal, "record", None),
            "files": selectors.evidence_files(proposal),
            "references": [e for e in proposal.evidence if isinstance(e, dict) and "file" not in e],
            "accept": evidence.ACCEPT,
            "limits": evidence.limits_text(),
        },
    )


@staff_required
def evidence_file(request: HttpRequest, proposal_id: int, sha256: str) -> HttpResponse:
    """One evidence file of a proposal (or of its record's repairs), to staff of the county
    that decides it; every view is logged with who, when, where from."""
    proposal = get_object_or_404(_proposals(request.user), pk=proposal_id)
    document = selectors.evidence_document(proposal, sha256)
    if document is None:
        raise Http404
    return documents.serve(request, document)


def _uploads(request: HttpRequest, step: str) -> list[evidence.Upload]:
    """The step's files from the request; too many or too large raises CreditError."""
    try:
        return evidence.read_uploads(request.FILES.getlist("files"), label=evidence.LABELS[step])
    except EvidenceRejected as exc:
        raise CreditError(str(exc)) from None


@staff_required
def proposal_letter(request: HttpRequest, proposal_id: int) -> HttpResponse:
    """The 告知书 to print and post (organisations, people without an online account)."""
    proposal = get_object_or_404(_proposals(request.user), pk=proposal_id)
    record_access(request, "credit_letter", proposal.pk)
    response = HttpResponse(letters.letter_pdf(proposal), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="credit-notice-{proposal.pk}.pdf"'
    return response


@staff_required
@require_POST
def proposal_act(request: HttpRequest, proposal_id: int, action: str) -> HttpResponse:
    """认定, 不予认定, or an objection the subject made by letter or at the counter."""
    proposal = get_object_or_404(_proposals(request.user), pk=proposal_id)
    text = request.POST.get("text", "")
    try:
        if action == "confirm":
            record = services.confirm(proposal.pk, decision=text, actor=request.user)
            _tell(
                proposal.subject,
                "credit.confirmed",
                conduct=record.conduct.name,
                level=record.get_level_display(),
                consequence=record.conduct.consequence,
                until=record.effective_until - timedelta(days=1),
            )
            messages.success(request, _("已认定，失信名单已更新。"))
        elif action == "reject":
            services.reject(proposal.pk, decision=text, actor=request.user)
            _tell(
                proposal.subject,
                "credit.not_confirmed",
                conduct=proposal.conduct.name,
                decision=text,
            )
            messages.success(request, _("已决定不予认定。"))
        elif action == "object":
            services.object_to(
                proposal.pk,
                text=text,
                actor=request.user,
                files=_uploads(request, "objection"),
            )
            messages.success(request, _("已登记当事人异议，请核实后答复。"))
        else:
            raise PermissionDenied
    except CreditError as exc:
        messages.error(request, str(exc))
    return redirect("credit-proposal", proposal_id=proposal.pk)


def _tell(subject: Subject, code: str, **values) -> bool:
    """A person with a household account hears by 站内信 and SMS; anyone else is told by
    letter (the page says so)."""
    if subject.kind != Subject.Kind.PERSON:
        return False
    household = Household.objects.filter(head_id_number=subject.id_number).first()
    if household is None:
        return False
    notify_household(household, code, url=reverse("my-cases"), **values)
    return True


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Zero or more files from one <input multiple>; each is checked by credit.evidence."""

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


class ProposalForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("主体类别"),
        choices=Subject.Kind.choices,
        widget=forms.RadioSelect,
        initial="person",
    )
    name = forms.CharField(label=_("姓名或单位名称"), max_length=100)
    number = forms.CharField(label=_("身份证号或统一社会信用代码"), max_length=18)
    conduct = forms.ModelChoiceField(
        label=_("失信行为"), queryset=Conduct.objects.filter(active=True), empty_label=None
    )
    county = forms.ModelChoiceField(label=_("认定单位（区县）"), queryset=Region.objects.none())
    facts = forms.CharField(
        label=_("失信事实（时间、经过、依据）"), widget=forms.Textarea(attrs={"rows": 4})
    )
    files = FilesField(
        label=evidence.LABELS["proposal"],
        required=False,
        widget=MultipleFileInput(attrs={"accept": evidence.ACCEPT}),
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["files"].help_text = evidence.limits_text()
        counties = _counties(user)
        self.fields["county"].queryset = counties
        if len(counties[:2]) == 1:  # a county's own staff: no choice to make
            self.fields["county"].initial = counties[0].pk
            self.fields["county"].empty_label = None


@staff_required
def proposal_new(request: HttpRequest) -> HttpResponse:
    """Manual entry with its facts; the subject is told and the objection period starts."""
    if not may_decide(request.user):
        raise PermissionDenied(_("失信认定由县（区）和市住房保障部门办理。"))
    form = ProposalForm(request.POST or None, request.FILES or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            files = _uploads(request, "proposal")
            if data["kind"] == Subject.Kind.PERSON:
                subject = services.person(data["name"], data["number"])
            else:
                subject = services.organisation(data["name"], data["number"])
            proposal = services.propose(
                subject=subject,
                conduct_code=data["conduct"].code,
                county=data["county"],
                source="manual",
                facts=data["facts"],
                files=files,
                actor=request.user,
            )
        except CreditError as exc:
            about_files = str(exc).startswith(f"{evidence.LABELS['proposal']}：")
            form.add_error("files" if about_files else None, str(exc))
        else:
            told = _tell(
                subject,
                "credit.proposed",
                county=proposal.county.name,
                conduct=proposal.conduct.name,
                level=proposal.conduct.get_level_display(),
                facts=proposal.facts,
                objection_until=proposal.objection_until,
            )
            if told:
                messages.success(request, _("已登记并通过站内信和短信告知当事人，异议期开始。"))
            else:
                messages.warning(
                    request, _("已登记。当事人没有在线账户，请书面告知（邮寄告知书）。")
                )
            return redirect("credit-proposal", proposal_id=proposal.pk)
    return render(request, "staff/credit/proposal_new.html", {"form": form})


RECORD_FILTERS = {
    "effective": _("影响期内"),
    "repairing": _("修复审核中"),
    "repaired": _("已修复"),
    "expired": _("已届满"),
}


@staff_required
def record_list(request: HttpRequest) -> HttpResponse:
    if not may_decide(request.user):
        raise PermissionDenied(_("失信记录由县（区）和市住房保障部门管理；其他岗位请用信用查询。"))
    today = timezone.localdate()
    status = (
        request.GET.get("status") if request.GET.get("status") in RECORD_FILTERS else "effective"
    )
    rows = _records(request.user)
    rows = {
        "effective": rows.filter(Record.in_effect_q(today)),
        "repairing": rows.filter(repairs__status=Repair.Status.PENDING),
        "repaired": rows.filter(repaired_on__isnull=False),
        "expired": rows.filter(repaired_on__isnull=True, effective_until__lte=today),
    }[status]
    level = request.GET.get("level", "")
    if level in Level.values:
        rows = rows.filter(level=level)
    return render(
        request,
        "staff/credit/records.html",
        {
            "status": status,
            "filters": RECORD_FILTERS.items(),
            "level": level,
            "levels": Level.choices,
            "page": Paginator(rows.order_by("-decided_on", "-pk"), 30).get_page(
                request.GET.get("page")
            ),
        },
    )


@staff_required
def record_detail(request: HttpRequest, record_id: int) -> HttpResponse:
    record = get_object_or_404(_records(request.user).select_related("proposal"), pk=record_id)
    record_access(request, "credit_record", record.pk)
    return render(
        request,
        "staff/credit/record.html",
        {
            "r": record,
            "number": record.subject.id_number or record.subject.credit_code,
            "in_effect": record.in_effect(timezone.localdate()),
            "repairs": [
                (x, selectors.labelled(x.evidence)) for x in record.repairs.order_by("-created_at")
            ],
            "pending": record.repairs.filter(status=Repair.Status.PENDING).first(),
            "files": selectors.labelled(record.proposal.evidence),
            "accept": evidence.ACCEPT,
            "limits": evidence.limits_text(),
        },
    )


@staff_required
@require_POST
def record_repair(request: HttpRequest, record_id: int, action: str) -> HttpResponse:
    """A repair request the subject brought (entered by staff), and its decision."""
    record = get_object_or_404(_records(request.user), pk=record_id)
    text = request.POST.get("text", "")
    try:
        if action == "ask":
            services.ask_repair(
                record.pk,
                correction=text,
                actor=request.user,
                files=_uploads(request, "repair"),
            )
            messages.success(request, _("已登记信用修复申请。"))
        elif action in ("approve", "refuse"):
            pending = record.repairs.filter(status=Repair.Status.PENDING).first()
            if pending is None:
                raise CreditError("没有待审核的修复申请。")
            services.decide_repair(
                pending.pk,
                approve=action == "approve",
                decision=text,
                actor=request.user,
                files=_uploads(request, "repair-decision"),
            )
            if action == "approve":
                _tell(record.subject, "credit.repaired", conduct=record.conduct.name)
            messages.success(request, _("已审核。"))
        else:
            raise PermissionDenied
    except CreditError as exc:
        messages.error(request, str(exc))
    return redirect("credit-record", record_id=record.pk)


class QueryForm(forms.Form):
    purpose = forms.CharField(label=_("查询事由"), max_length=200)
    number = forms.CharField(label=_("身份证号或统一社会信用代码"), max_length=18)


@staff_required
def query(request: HttpRequest) -> HttpResponse:
    """City-wide and read-only, for every housing department and operator; logged first.
    A POST, so an ID number never sits in a URL (history, referrers, logs)."""
    form = QueryForm(request.POST or None)
    found = None
    if request.method == "POST" and form.is_valid():
        number = form.cleaned_data["number"].strip().upper()
        person = len(number) == 18 and number[:17].isdigit()
        try:
            found = services.query(
                user=request.user,
                purpose=form.cleaned_data["purpose"],
                id_number=number if person else "",
                credit_code="" if person else number,
                ip=client_ip(request),
            )
        except CreditError as exc:
            form.add_error(None, str(exc))
    return render(
        request,
        "staff/credit/query.html",
        {
            "form": form,
            "found": found,
            "shown": [(r, _shown_number(r.subject)) for r in found or []],
            "may_decide": may_decide(request.user),
        },
    )


# --- statistics over time --------------------------------------------------------------------


@staff_required
def statistics(request: HttpRequest) -> HttpResponse:
    """Records taking effect, expiring and repaired by month over the last 12 months in the
    user's counties: a chart over a table, and the same rows as XLSX or CSV."""
    if not may_decide(request.user):
        raise PermissionDenied(_("失信统计由县（区）和市住房保障部门查看。"))
    today = timezone.localdate()
    months = selectors.monthly(_records(request.user), today)
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        header = [str(_(h)) for h in ("月份", "新增生效", "影响期届满", "信用修复")]
        return table_download(
            fmt,
            "失信记录按月统计",
            header,
            ([f"{m.start:%Y-%m}", m.effective, m.expired, m.repaired] for m in months),
        )
    # Drawn by the staff statistics' charts.js (ECharts) from the same rows as the table.
    chart = {
        "key": "credit-monthly",
        "kind": "bar",
        "categories": [f"{m.start:%Y-%m}" for m in months],
        "series": [
            {"name": _("新增生效"), "data": [m.effective for m in months]},
            {"name": _("影响期届满"), "data": [m.expired for m in months]},
            {"name": _("信用修复"), "data": [m.repaired for m in months]},
        ],
    }
    return render(
        request,
        "staff/credit/statistics.html",
        {
            "months": months,
            "charts": [chart],
            "since": months[0].start,
            "today": today,
            "totals": {
                "effective": sum(m.effective for m in months),
                "expired": sum(m.expired for m in months),
                "repaired": sum(m.repaired for m in months),
            },
        },
    )
