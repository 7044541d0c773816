"""Reading a back-office list's filters from the query string: ids and months typed into a
URL are checked, never trusted, and paging links keep the other filters."""

from collections.abc import Iterable
from datetime import date

from django.http import HttpRequest

from geo.models import Estate


def parse_id(text: str) -> int | None:
    """A database id, or None for anything else (letters, signs, absurd lengths)."""
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def parse_month(text: str) -> date | None:
    """A month typed as 2026-11 (what <input type=month> sends), or None."""
    try:
        year, month = text.split("-")
        if len(year) == 4 and year.isdigit() and month.isdigit():
            return date(int(year), int(month), 1)
    except ValueError:
        pass
    return None


def query_without(request: HttpRequest, drop: Iterable[str] = ("page", "format", "table")) -> str:
    """The current filters for the next page's link, without paging and format."""
    params = request.GET.copy()
    for key in drop:
        params.pop(key, None)
    return params.urlencode()


def visible_estates(user):
    """The estates a filter may offer the user, by name."""
    return Estate.objects.visible_to(user).only("pk", "name").order_by("name")
