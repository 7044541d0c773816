"""运营管理 · 年审: the queue of the year's reviews in the user's jurisdiction (estates of its
region subtree, or of its operator), a review's answers and department findings, and the
county's decision. Everyone in scope sees the queue; only city and county housing departments
decide (tenancy.services.annual_reviews.may_decide). Outside the scope a review is a 404.
"""

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
from backoffice.filters import parse_id
from backoffice.pending import Task
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope
from geo.models import Estate
from housing.errors import NotAllowed
from tenancy.models import AnnualReview
from tenancy.services import annual_reviews

PAGE = 30
ESTATE = "contract__unit__building__estate__"
HOUSING = {"none": _("除本公租房外无其他住房"), "owns": _("名下有住房"), "other": _("其他情况")}


def reviews_for(user):
    """Reviews of leases in estates the user may see."""
    return AnnualReview.objects.filter(estate_scope(user, ESTATE))


@staff_required
def review_list(request: HttpRequest) -> HttpResponse:
    """The queue: submitted ones first by default (they wait for a decision), filterable by
    state, year, estate and tenant or contract number."""
    reviews = reviews_for(request.user).select_related(
        "household", "contract__unit__building__estate"
    )
    status = request.GET.get("status", "submitted")
    if status in AnnualReview.Status.values:
        reviews = reviews.filter(status=status)
    else:
        status = ""
    year = parse_id(request.GET.get("year", ""))
    if year:
        reviews = reviews.filter(year=year)
    estate = parse_id(request.GET.get("estate", ""))
    if estate:
        reviews = reviews.filter(contract__unit__building__estate_id=estate)
    q = request.GET.get("q", "").strip()[:40]
    if q:
        reviews = reviews.filter(Q(contract__number__icontains=q) | Q(household__head_name=q))
    counts = dict(
        reviews_for(request.user)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    reviews = reviews.order_by("due_date", "pk")
    fmt = request.GET.get("format", "")
    if fmt in FORMATS:
        return table_download(
            fmt,
            "年审",
            [
                str(label)
                for label in (
                    _("年度"),
                    _("合同编号"),
                    _("承租人"),
                    _("项目"),
                    _("房屋"),
                    _("状态"),
                    _("比对符合"),
                    _("填报截止"),
                    _("提交时间"),
                )
            ],
            (
                [
                    r.year,
                    r.contract.number,
                    r.household.head_name,
                    r.contract.unit.building.estate.name,
                    f"{r.contract.unit.building.number} {r.contract.unit.number}",
                    r.get_status_display(),
                    "" if r.passed is None else ("是" if r.passed else "否"),
                    r.due_date,
                    r.submitted_at
                    and timezone.localtime(r.submitted_at).strftime("%Y-%m-%d %H:%M"),
                ]
                for r in reviews.iterator(chunk_size=2000)
            ),
        )
    params = request.GET.copy()
    for key in ("page", "format"):
        params.pop(key, None)
    page = Paginator(reviews, PAGE).get_page(request.GET.get("page"))
    return render(
        request,
        "staff/annual_reviews/list.html",
        {
            "page": page,
            "page_query": params.urlencode(),
            "query": params.urlencode(),
            "status": status,
            "statuses": [(c, label, counts.get(c, 0)) for c, label in AnnualReview.Status.choices],
            "year": year,
            "estate": estate,
            "estates": Estate.objects.visible_to(request.user).only("pk", "name").order_by("name"),
            "q": q,
        },
    )


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结论"),
        choices=[("approve", _("审核通过")), ("reject", _("审核不通过"))],
        widget=forms.RadioSelect,
    )
    reasons = forms.CharField(
        label=_("审核意见（不通过须写明理由，将告知承租人）"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    start_exit = forms.BooleanField(label=_("不再符合保障条件：同时启动退出程序"), required=False)


@staff_required
def review_detail(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(
        reviews_for(request.user).select_related(
            "household", "contract__unit__building__estate", "decided_by"
        ),
        pk=review_id,
    )
    record_access(request, "annual_review", review.pk)
    decidable = annual_reviews.may_decide(request.user) and review.status in (
        AnnualReview.Status.SUBMITTED,
        AnnualReview.Status.MISSED,
    )
    answers = review.answers or {}
    return render(
        request,
        "staff/annual_reviews/detail.html",
        {
            "review": review,
            "answers": answers,
            "housing": HOUSING.get(answers.get("other_housing", ""), ""),
            "form": DecisionForm() if decidable else None,
        },
    )


@staff_required
@require_POST
def review_decide(request: HttpRequest, review_id: int) -> HttpResponse:
    review = get_object_or_404(reviews_for(request.user), pk=review_id)
    form = DecisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择审核结论。"))
        return redirect("annual-review", review_id=review.pk)
    try:
        annual_reviews.decide(
            review.pk,
            approve=form.cleaned_data["decision"] == "approve",
            reasons=form.cleaned_data["reasons"],
            actor=request.user,
            start_exit=form.cleaned_data["start_exit"],
        )
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已记录审核结论，并通知承租人。"))
    return redirect("annual-review", review_id=review.pk)


def pending_tasks(user) -> list[Task]:
    """For the staff home: reviews waiting for a decision (for those who decide) and missed
    reviews (for everyone who follows the households), counted with the queue's own filter."""
    counts = reviews_for(user).aggregate(
        submitted=Count("pk", filter=Q(status=AnnualReview.Status.SUBMITTED)),
        missed=Count("pk", filter=Q(status=AnnualReview.Status.MISSED)),
    )
    queue = reverse("annual-reviews")
    tasks = []
    if annual_reviews.may_decide(user):
        tasks.append(Task(_("待审核的年审"), counts["submitted"], f"{queue}?status=submitted"))
    tasks.append(
        Task(_("逾期未填报的年审"), counts["missed"], f"{queue}?status=missed", urgent=True)
    )
    return tasks
