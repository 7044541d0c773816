"""运营管理 · 考核评价: the operators' quarterly scores with their measured metrics, a ranking,
and (for the city) computing and publishing a quarter. An operator sees only its own row."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_POST

from backoffice.pending import Task
from backoffice.views import staff_required
from geo.jurisdiction import estate_scope, profile_of
from geo.models import Estate
from housing.errors import NotAllowed
from tenancy.models import OperatorScore
from tenancy.services import evaluation


def scores_for(user):
    """Scores of the operators running an estate in the user's jurisdiction (an operator: its
    own); the others do not exist for the user."""
    if user.is_superuser:
        return OperatorScore.objects.all()
    operators = Estate.objects.filter(estate_scope(user)).values("operator_id")
    return OperatorScore.objects.filter(operator_id__in=operators)


def may_score(user) -> bool:
    """The city's housing department computes and publishes the scores."""
    if user.is_superuser:
        return True
    profile = profile_of(user)
    return profile is not None and profile.role == "city"


def pending_tasks(user) -> list[Task]:
    """For the city: last quarter's scores not yet computed or not yet published."""
    if not may_score(user):
        return []
    last = evaluation.Quarter.of(timezone.localdate()).previous()
    counts = OperatorScore.objects.filter(quarter=last.name).aggregate(
        scored=Count("pk"), unpublished=Count("pk", filter=Q(published_at__isnull=True))
    )
    # The count is of scores to publish, not of the ranking's rows: link to the form that acts.
    url = f"{_url()}?quarter={last.name}#compute-title"
    if not counts["scored"]:
        return [Task(_("考核评价：%(q)s 待计算") % {"q": last.title}, 1, url)]
    return [Task(_("考核评价：%(q)s 待公开") % {"q": last.title}, counts["unpublished"], url)]


def _url() -> str:
    from django.urls import reverse

    return reverse("evaluation")


@staff_required
def overview(request: HttpRequest) -> HttpResponse:
    scores = scores_for(request.user)
    quarters = evaluation.scored_quarters(scores)
    quarter = request.GET.get("quarter", "")
    if quarter not in quarters:
        quarter = quarters[0] if quarters else ""
    ranking = evaluation.ranking(quarter, scores) if quarter else []
    city = evaluation.default_rules()
    rules = city
    if ranking:
        first = Estate.objects.filter(operator_id=ranking[0].operator_id).first()
        if first is not None:
            rules = evaluation.rules_for(first.district.parent).metrics
    rows = [
        {
            "rank": n,
            "score": s,
            "metrics": [
                (rule["label"], s.metrics.get(key), rule.get("unit", ""), key)
                for key, rule in rules.items()
            ],
        }
        for n, s in enumerate(ranking, start=1)
    ]
    return render(
        request,
        "staff/evaluation/overview.html",
        {
            "quarter": quarter,
            "label": evaluation.Quarter.parse(quarter).title if quarter else "",
            "quarters": quarters,
            "rows": rows,
            "rules": rules,
            "published": any(s.published_at for s in ranking),
            "may_score": may_score(request.user),
            "suggested": evaluation.Quarter.of(timezone.localdate()).previous().name,
        },
    )


@staff_required
@require_POST
def compute(request: HttpRequest) -> HttpResponse:
    if not may_score(request.user):
        raise PermissionDenied(_("只有市住房保障部门可以计算考核得分。"))
    quarter = request.POST.get("quarter", "")
    try:
        scores = evaluation.score_operators(quarter, actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
        return redirect("evaluation")
    messages.success(request, _("已计算 %(n)s 家运营单位的得分。") % {"n": len(scores)})
    return redirect(f"{_url()}?quarter={scores[0].quarter if scores else ''}")


@staff_required
@require_POST
def publish(request: HttpRequest) -> HttpResponse:
    if not may_score(request.user):
        raise PermissionDenied(_("只有市住房保障部门可以公开考核结果。"))
    quarter = request.POST.get("quarter", "")
    try:
        count = evaluation.publish(quarter, actor=request.user)
    except NotAllowed as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("已在门户网站公开 %(n)s 家运营单位的得分。") % {"n": count})
    return redirect(f"{_url()}?quarter={quarter}")
