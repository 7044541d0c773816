"""开放数据 on the portal: the catalogue, one page per dataset (chart and table) and its CSV and
JSON at stable URLs. Figures change once a day, so every answer carries an ETag and a
Last-Modified from the as-of date and may be cached until the next midnight."""

import csv
import io
import json
from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import condition

from exchange.spreadsheets import neutralize_row
from insights.open_data import (
    DATASETS,
    LICENCE,
    Cell,
    Column,
    Dataset,
    Published,
    as_of,
    chart_data,
    cutoff_for,
    publish,
    threshold,
)


def _dataset(slug: str) -> Dataset:
    dataset = DATASETS.get(slug)
    if dataset is None:
        raise Http404(_("没有这个数据集"))
    return dataset


def _etag(request: HttpRequest, slug: str = "", **_kwargs: Any) -> str | None:
    """Same day, same dataset, same threshold and language: same answer (an unknown slug has
    none, so it stays a 404 whatever the request says)."""
    if slug and slug not in DATASETS:
        return None
    return f"{slug or 'catalogue'}-{as_of().isoformat()}-{threshold()}-{get_language()}"


def _last_modified(request: HttpRequest, slug: str = "", **_kwargs: Any) -> datetime | None:
    if slug and slug not in DATASETS:
        return None
    return cutoff_for(timezone.localdate())


def cached_daily(view: Callable) -> Callable:
    """ETag/Last-Modified (304 on a match) and caching until the next local midnight: public
    for the CSV and JSON files, private for pages (they carry the text-size form's token)."""

    @condition(etag_func=_etag, last_modified_func=_last_modified)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        response = view(request, *args, **kwargs)
        if response.status_code == 200:
            now = timezone.localtime()
            midnight = cutoff_for(now.date() + timedelta(days=1))
            page = response.get("Content-Type", "").startswith("text/html")
            who = {"private": True} if page else {"public": True}
            patch_cache_control(
                response, max_age=max(0, int((midnight - now).total_seconds())), **who
            )
            response["Expires"] = http_date(midnight.timestamp())
            patch_vary_headers(response, ["Accept-Language", "Cookie"])
        return response

    wrapped.__name__ = view.__name__
    wrapped.__doc__ = view.__doc__
    return wrapped


def shown(cell: Cell, column: Column, limit: int) -> str:
    """A cell as a reader sees it on the page and in the CSV: a withheld count is "<N"."""
    if cell.suppressed:
        return f"<{limit}"
    if cell.value is None:
        return "—" if column.kind != "label" else ""
    if isinstance(cell.value, Decimal):
        return f"{cell.value:.2f}" if column.kind == "amount" else f"{cell.value:.1f}"
    return str(cell.value)


def heading(column: Column) -> str:
    if not column.unit:
        return str(column.title)
    return _("%(title)s（%(unit)s）") % {"title": column.title, "unit": column.unit}


@cached_daily
def catalogue(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "portal/open_data/catalogue.html",
        {
            "datasets": list(DATASETS.values()),
            "as_of": as_of(),
            "rule": suppression_rule(threshold()),
            "licence": LICENCE,
        },
    )


@cached_daily
def dataset_page(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = _dataset(slug)
    if dataset.link:
        return redirect(dataset.link)
    published = publish(dataset)
    rows = [
        [
            {
                "text": shown(cell, column, published.threshold),
                "suppressed": cell.suppressed,
                "label": column.kind == "label",
                "data": column.key in ("county", "estate"),  # names, in Chinese in any language
                "column": heading(column),
            }
            for cell, column in zip(row, dataset.columns, strict=True)
        ]
        for row in published.rows
    ]
    chart = chart_data(published)
    return render(
        request,
        "portal/open_data/dataset.html",
        {
            "dataset": dataset,
            "headings": [heading(c) for c in dataset.columns],
            "rows": rows,
            "charts": [chart] if chart else [],
            "as_of": published.as_of,
            "threshold": published.threshold,
            "licence": LICENCE,
            "rule": suppression_rule(published.threshold),
        },
    )


def _filename(dataset: Dataset, day: date, suffix: str) -> str:
    return f"attachment; filename*=UTF-8''open-data-{dataset.slug}-{day.isoformat()}.{suffix}"


@cached_daily
def dataset_csv(request: HttpRequest, slug: str) -> HttpResponse:
    """UTF-8 with a BOM (Excel reads the Chinese), cells neutralized against formulas; the
    first line names each column with its unit, as the page does."""
    dataset = _dataset(slug)
    if dataset.link:
        raise Http404(_("这个数据集在其他页面公开"))
    published = publish(dataset)

    def lines() -> Iterator[str]:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(neutralize_row(heading(c) for c in dataset.columns))
        yield "\ufeff" + buffer.getvalue()
        for row in published.rows:
            buffer.seek(0)
            buffer.truncate()
            writer.writerow(
                neutralize_row(
                    shown(cell, column, published.threshold)
                    for cell, column in zip(row, dataset.columns, strict=True)
                )
            )
            yield buffer.getvalue()

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = _filename(dataset, published.as_of, "csv")
    return response


def as_json(published: Published, request: HttpRequest) -> dict:
    """The dataset with what a reuser needs to read it: columns with units, the date, the
    suppression rule and the licence. A withheld cell is null and its key is listed in the
    row's "suppressed"."""
    dataset = published.dataset
    return {
        "slug": dataset.slug,
        "title": str(dataset.title),
        "description": str(dataset.description),
        "source": str(dataset.source),
        "update_rule": str(dataset.update_rule),
        "as_of": published.as_of.isoformat(),
        "url": request.build_absolute_uri(reverse("open-dataset", args=[dataset.slug])),
        "licence": str(LICENCE),
        "suppression": {
            "threshold": published.threshold,
            "rule": suppression_rule(published.threshold),
        },
        "columns": [
            {"key": c.key, "title": str(c.title), "unit": str(c.unit), "kind": c.kind}
            for c in dataset.columns
        ],
        "rows": [
            {
                **{
                    c.key: _number(cell.value) for cell, c in zip(row, dataset.columns, strict=True)
                },
                "suppressed": [
                    c.key for cell, c in zip(row, dataset.columns, strict=True) if cell.suppressed
                ],
            }
            for row in published.rows
        ],
    }


def _number(value: Any) -> Any:
    """Rates, medians and amounts as JSON numbers, not strings."""
    return float(value) if isinstance(value, Decimal) else value


def suppression_rule(limit: int) -> str:
    return _(
        "涉及人、家庭或其案件的计数为 1 至 %(n)s 时不公布（显示为“<%(limit)s”，JSON 中为 null），"
        "由这些计数算出的比率、金额和中位数一并不公布；0 照常公布。"
    ) % {"n": max(limit - 1, 0), "limit": limit}


@cached_daily
def dataset_json(request: HttpRequest, slug: str) -> HttpResponse:
    dataset = _dataset(slug)
    if dataset.link:
        raise Http404(_("这个数据集在其他页面公开"))
    body = json.dumps(as_json(publish(dataset), request), ensure_ascii=False, indent=1)
    return HttpResponse(body, content_type="application/json; charset=utf-8")
