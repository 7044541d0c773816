"""运营管理 · 续租: renewal requests with their department findings, the county's decision
(approval drafts the next lease, then signed in 合同签订), and the leases ending within the
notice period with nothing asked yet, so someone can call the household. Scoped like every
estate query (region subtree or operator); outside it a request is a 404.
"""

from datetime import timedelta

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from archive.services import record_access
from backoffice.exports import FORMATS, table_download
from backoffice.pending import Task
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope
from housing.errors import NotAllowed
from tenancy.models import Contract, Renewal
from tenancy.services import annual_reviews, contracts, renewals

PAGE = 30
ESTATE = "contract__unit__building__estate__"
NOTICE_MONTHS = 3  # the list of leases ending soon; each county's reminder uses its own policy


def renewals_for(user):
    return Renewal.objects.filter(estate_scope(user, ESTATE))


def ending_soon(user, today=None):
    """Active leases in scope ending within three months with no renewal asked or drafted."""
    today = today or timezone.localdate()
    return (
        Contract.objects.filter(estate_scope(user, "unit__building__estate__"))
        .filter(
            status=Contract.Status.ACTIVE,
            end_date__gte=today,
            end_date__lte=contracts.add_months(today, NOTICE_MONTHS),
        )
        .exclude(renewals.renewal_under_way())
    )


@staff_required
def renewal_list(request: HttpRequest) -> HttpResponse:
    tab = request.GET.get("tab", "requests")
    params = request.GET.copy()
    for key in ("page", "format"):
        params.pop(key, None)
    context = {
        "tab": tab,
        "page_query": params.urlencode(),
        "query": params.urlencode(),
        "today": timezone.localdate(),
    }
    if tab == "ending":
        leases = (
            ending_soon(request.user)
            .select_related("household", "unit__building__estate")
            .order_by("end_date", "pk")
        )
        context["page"] = Paginator(leases, PAGE).get_page(request.GET.get("page"))
    else:
        status = request.GET.get("status", "pending")
        found = renewals_for(request.user).select_related(
            "household", "contract__unit__building__estate", "new_contract"
        )
        if status in Renewal.Status.values:
            found = found.filter(status=status)
        else:
            status = ""
        q = request.GET.get("q", "").strip()[:40]
        if q:
            found = found.filter(Q(contract__number__icontains=q) | Q(household__head_name=q))
        counts = dict(
            renewals_for(request.user)
            .order_by()
            .values_list("status")
            .annotate(n=Count("pk"))
            .values_list("status", "n")
        )
        found = found.order_by("requested_at", "pk")
        if request.GET.get("format", "") in FORMATS:
            return _export_requests(request.GET["format"], found)
        context |= {
            "status": status,
            "statuses": [(c, label, counts.get(c, 0)) for c, label in Renewal.Status.choices],
            "q": q,
            "page": Paginator(found, PAGE).get_page(request.GET.get("page")),
        }
    return render(request, "staff/renewals/list.html", context)


def _export_requests(fmt: str, found) -> HttpResponse:
    """The requests as a spreadsheet whose cells cannot run as formulas."""
    header = [
        str(label)
        for label in (
            _("合同编号"),
            _("承租人"),
            _("项目"),
            _("房屋"),
            _("原合同到期"),
            _("续租期限（月）"),
            _("比对符合"),
            _("状态"),
            _("续租合同"),
        )
    ]
    rows = (
        [
            r.contract.number,
            r.household.head_name,
            r.contract.unit.building.estate.name,
            f"{r.contract.unit.building.number} {r.contract.unit.number}",
            r.contract.end_date,
            r.months,
            "是" if r.passed else "否",
            r.get_status_display(),
            r.new_contract.number if r.new_contract else "",
        ]
        for r in found.iterator(chunk_size=2000)
    )
    return table_download(fmt, "续租申请", header, rows)


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[("approve", _("同意续租（生成续租合同）")), ("reject", _("不予续租"))],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("审核意见（不予续租须写明理由，将告知承租人）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


def _visible(request: HttpRequest, renewal_id: int) -> Renewal:
    return get_object_or_404(
        renewals_for(request.user).select_related(
            "household", "contract__unit__building__estate", "new_contract", "decided_by"
        ),
        pk=renewal_id,
    )


@staff_required
def renewal_detail(request: HttpRequest, renewal_id: int) -> HttpResponse:
    renewal = _visible(request, renewal_id)
    record_access(request, "renewal", renewal.pk)
    decidable = annual_reviews.may_decide(request.user) and renewal.status == Renewal.Status.PENDING
    return render(
        request,
        "staff/renewals/detail.html",
        {
            "renewal": renewal,
            "answers": renewal.answers or {},
            "form": DecisionForm() if decidable else None,
            "decidable": decidable,
            "new_start": renewal.contract.end_date + timedelta(days=1),
        },
    )


@staff_required
@require_POST
def renewal_decide(request: HttpRequest, renewal_id: int) -> HttpResponse:
    renewal = _visible(request, renewal_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结论。"))
        return redirect("renewal", renewal_id=renewal.pk)
    try:
        renewals.decide(
            renewal.pk,
            approve=form.cleaned_data["decision"] == "approve",
            reasons=form.cleaned_data["reasons"],
            actor=request.user,
        )
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已记录审核结论，并通知承租人。"))
    return redirect("renewal", renewal_id=renewal.pk)


@staff_required
@require_POST
def renewal_recheck(request: HttpRequest, renewal_id: int) -> HttpResponse:
    renewal = _visible(request, renewal_id)
    try:
        renewals.recheck(renewal.pk, actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已重新向有关部门比对。"))
    return redirect("renewal", renewal_id=renewal.pk)


def pending_tasks(user) -> list[Task]:
    """For the staff home: requests waiting for a decision (for those who decide) and leases
    ending within three months with nothing asked (for everyone in scope)."""
    queue = reverse("renewals")
    tasks = []
    if annual_reviews.may_decide(user):
        waiting = renewals_for(user).filter(status=Renewal.Status.PENDING).count()
        tasks.append(Task(_("待审核的续租申请"), waiting, f"{queue}?status=pending"))
    tasks.append(
        Task(
            _("三个月内到期、尚未申请续租的合同"),
            ending_soon(user).count(),
            f"{queue}?tab=ending",
        )
    )
    return tasks
