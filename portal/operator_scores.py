"""运营单位考核结果 on the portal: each published quarter's scores of the operators (public
organisations) with their measured metrics; nothing about any household."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tenancy.models import OperatorScore
from tenancy.services import evaluation


def operator_scores(request: HttpRequest) -> HttpResponse:
    published = OperatorScore.objects.published()
    quarters = evaluation.scored_quarters(published)
    quarter = request.GET.get("quarter", "")
    if quarter not in quarters:
        quarter = quarters[0] if quarters else ""
    ranking = evaluation.ranking(quarter, published) if quarter else []
    rules = evaluation.default_rules()
    rows = [
        {
            "rank": n,
            "score": s,
            "metrics": [(rule["label"], s.metrics.get(key), key) for key, rule in rules.items()],
        }
        for n, s in enumerate(ranking, start=1)
    ]
    return render(
        request,
        "portal/operators.html",
        {
            "quarter": quarter,
            "label": evaluation.Quarter.parse(quarter).title if quarter else "",
            "quarters": quarters,
            "rows": rows,
            "rules": rules,
        },
    )
