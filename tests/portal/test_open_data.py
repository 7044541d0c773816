"""开放数据: every dataset equals a brute-force count over the demo city as of the end of
yesterday, with small counts withheld; nothing the pages and downloads print is personal data
or a small count; the downloads agree with the page; caching headers and 304s work."""

import csv
import io
import json
import re
import statistics
from collections import Counter, defaultdict
from datetime import datetime, time, timedelta
from decimal import Decimal
from html.parser import HTMLParser

import pytest
from django.core.cache import cache
from django.utils import timezone

from allocation.models import Offer, Round, RoundUnit, WaitlistEntry
from credit.models import Level, Record, Subject
from geo.models import Unit
from housing.models import Application, Household
from insights import open_data
from insights.open_data import DATASETS, MONTHS_SHOWN, cutoff_for, suppress
from insights.statistics.base import months_before
from tenancy.models import Bill, Payment, Repair
from tests.disclosure.test_crawler import ID_NUMBER, MOBILE, text_of

pytestmark = pytest.mark.django_db

TABLES = [slug for slug, d in DATASETS.items() if not d.link]
LIMIT = 5


@pytest.fixture(autouse=True)
def _fresh(settings):
    settings.ANJU_OPEN_DATA_MIN_COUNT = LIMIT
    cache.clear()
    yield
    cache.clear()


def cutoff():
    return cutoff_for(timezone.localdate())


def local_month(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m}"


def first_month():
    return months_before(cutoff().date().replace(day=1), MONTHS_SHOWN - 1)


def tenth(value: Decimal) -> float:
    return float(value.quantize(Decimal("0.1")))


def rate(part, whole):
    return None if not whole else tenth(Decimal(part) * 100 / Decimal(whole))


def months(value: timedelta | None):
    if value is None:
        return None
    return tenth(Decimal(value.total_seconds()) / 86400 / Decimal("30.4375"))


# --- Brute force: one Python loop per dataset over the rows as of the end of yesterday ---


def brute_vacancy(by: str) -> list[dict]:
    counts = defaultdict(Counter)
    units = Unit.objects.filter(building__estate__published=True)  # a snapshot: no history
    for estate, county, status in units.values_list(
        "building__estate__name", "building__estate__district__name", "status"
    ):
        key = (estate, county) if by == "estate" else (county,)
        counts[key]["units"] += 1
        counts[key]["vacant"] += status == Unit.Status.VACANT
    rows = []
    for key, c in counts.items():
        names = {"estate": key[0], "county": key[1]} if by == "estate" else {"county": key[0]}
        rows.append({**names, "units": c["units"], "vacant": c["vacant"]})
    for r in rows:
        r["rate"] = rate(r["vacant"], r["units"])
    return rows


def brute_applications() -> list[dict]:
    start = timezone.make_aware(datetime.combine(first_month(), time.min))
    cells = defaultdict(Counter)
    for county, submitted, stage, decided in Application.objects.values_list(
        "county__name", "submitted_at", "stage", "decided_at"
    ):
        if submitted and start <= submitted < cutoff():
            cells[county, local_month(submitted)]["submitted"] += 1
        if stage in ("approved", "rejected") and decided and start <= decided < cutoff():
            cells[county, local_month(decided)][stage] += 1
    return [
        {"county": k[0], "month": k[1], **{s: c[s] for s in ("submitted", "approved", "rejected")}}
        for k, c in cells.items()
    ]


def brute_waitlist() -> list[dict]:
    waited = defaultdict(list)
    for county, queued, status in WaitlistEntry.objects.values_list(
        "county__name", "queued_at", "status"
    ):
        if status == "waiting" and queued < cutoff():
            waited[county].append(cutoff() - queued)
    return [
        {"county": c, "households": len(w), "median_months": months(statistics.median(w))}
        for c, w in waited.items()
    ]


def quarter(moment) -> str:
    local = timezone.localtime(moment)
    return f"{local.year}Q{(local.month - 1) // 3 + 1}"


def brute_allocation() -> list[dict]:
    cells = defaultdict(Counter)
    announced = {
        pk: (county, quarter(at))
        for pk, county, at in Round.objects.values_list("pk", "county__name", "announced_at")
        if at and at < cutoff()
    }
    for key in announced.values():
        cells[key]["rounds"] += 1
    for round_id in RoundUnit.objects.values_list("round_id", flat=True):
        if round_id in announced:
            cells[announced[round_id]]["units"] += 1
    for round_id, status, decided in Offer.objects.values_list("round_id", "status", "decided_at"):
        if round_id in announced and status == "accepted" and decided and decided < cutoff():
            cells[announced[round_id]]["housed"] += 1
    return [
        {"county": k[0], "quarter": k[1], **{s: c[s] for s in ("rounds", "units", "housed")}}
        for k, c in cells.items()
    ]


def brute_rent() -> list[dict]:
    cells = defaultdict(lambda: {"bills": 0, "billed": Decimal(0), "paid": Decimal(0)})
    kept = {}
    for pk, county, month, amount, issued in Bill.objects.values_list(
        "pk", "contract__unit__building__estate__district__name", "month", "amount", "issued_at"
    ):
        if issued < cutoff() and month >= first_month():
            kept[pk] = (county, f"{month:%Y-%m}")
            cells[kept[pk]]["bills"] += 1
            cells[kept[pk]]["billed"] += amount
    for bill_id, amount, paid_on in Payment.objects.values_list("bill_id", "amount", "paid_on"):
        if bill_id in kept and paid_on < cutoff().date():
            cells[kept[bill_id]]["paid"] += amount
    return [
        {
            "county": k[0],
            "month": k[1],
            "bills": c["bills"],
            "billed": float(c["billed"]),
            "paid": float(c["paid"]),
            "rate": rate(c["paid"], c["billed"]),
        }
        for k, c in cells.items()
    ]


def brute_repairs() -> list[dict]:
    start = timezone.make_aware(datetime.combine(first_month(), time.min))
    cells = defaultdict(lambda: {"reported": 0, "assigned": 0, "in_time": 0, "waits": []})
    for county, reported, assigned, respond_by in Repair.objects.values_list(
        "estate__district__name", "reported_at", "assigned_at", "respond_by"
    ):
        if not start <= reported < cutoff():
            continue
        c = cells[county, local_month(reported)]
        c["reported"] += 1
        if assigned and assigned < cutoff():
            c["assigned"] += 1
            c["waits"].append(assigned - reported)
            c["in_time"] += bool(respond_by and assigned <= respond_by)
    return [
        {
            "county": k[0],
            "month": k[1],
            "reported": c["reported"],
            "assigned": c["assigned"],
            "in_time": c["in_time"],
            "in_time_rate": rate(c["in_time"], c["reported"]),
            "median_hours": (
                tenth(Decimal(statistics.median(c["waits"]).total_seconds()) / 3600)
                if c["waits"]
                else None
            ),
        }
        for k, c in cells.items()
    ]


def brute_credit() -> list[dict]:
    today = cutoff().date()
    cells = defaultdict(Counter)
    labels = dict(Level.choices)
    for level, decided, repaired in Record.objects.values_list(
        "level", "decided_on", "repaired_on"
    ):
        if decided < today:
            cells[str(labels[level]), str(decided.year)]["records"] += 1
            cells[str(labels[level]), str(decided.year)]["repaired"] += bool(
                repaired and repaired < today
            )
    return [
        {"level": k[0], "year": k[1], "records": c["records"], "repaired": c["repaired"]}
        for k, c in cells.items()
    ]


BRUTE = {
    "vacancy-by-county": lambda: brute_vacancy("county"),
    "vacancy-by-estate": lambda: brute_vacancy("estate"),
    "applications": brute_applications,
    "waitlist": brute_waitlist,
    "allocation": brute_allocation,
    "rent-collection": brute_rent,
    "repairs": brute_repairs,
    "credit": brute_credit,
}


def withheld(dataset, row: dict) -> dict:
    """The suppression rule, written again: a count of people 1–4 is null, and so is every
    figure derived from one."""
    kinds = {c.key: c for c in dataset.columns}

    def small(key):
        return kinds[key].kind == "count" and 0 < row[key] < LIMIT

    hidden = {
        key
        for key, column in kinds.items()
        if (small(key) if column.kind == "count" else any(small(b) for b in column.base))
    }
    out = {key: None if key in hidden else row[key] for key in kinds}
    out["suppressed"] = sorted(hidden)
    return out


def key_of(dataset, row):
    return tuple(row[c.key] for c in dataset.columns if c.kind == "label")


def test_the_registry_covers_what_the_issue_asks():
    assert set(BRUTE) == set(TABLES)
    assert DATASETS["operator-scores"].link == "operator-scores"
    for d in DATASETS.values():
        assert d.title and d.description and d.source and d.update_rule
        assert all(c.unit for c in d.columns if c.kind != "label"), d.slug


@pytest.mark.parametrize("slug", TABLES)
def test_each_dataset_equals_a_brute_force_count_with_small_counts_withheld(client, slug):
    dataset = DATASETS[slug]
    body = client.get(f"/open-data/{slug}.json").json()
    got = {key_of(dataset, r): r for r in body["rows"]}
    expected = {key_of(dataset, r): withheld(dataset, r) for r in BRUTE[slug]()}
    assert expected, f"the demo city has no {slug} figures to compare"
    assert got.keys() == expected.keys()
    print(slug, len(expected), sum(len(r["suppressed"]) for r in expected.values()))
    for key, row in expected.items():
        got_row = {k: got[key][k] for k in row}
        got_row["suppressed"] = sorted(got_row["suppressed"])
        assert got_row == row, (slug, key)
    assert body["as_of"] == (timezone.localdate() - timedelta(days=1)).isoformat()
    assert body["suppression"]["threshold"] == LIMIT


def test_the_demo_city_has_small_counts_and_they_are_withheld(client):
    """So the tests above see the rule at work, not just large numbers."""
    withheld_cells = 0
    for slug in TABLES:
        for row in client.get(f"/open-data/{slug}.json").json()["rows"]:
            withheld_cells += len(row["suppressed"])
    assert withheld_cells > 0


def test_suppression_rule_on_a_made_up_row():
    dataset = DATASETS["repairs"]
    row = {
        "county": "谯城区",
        "month": "2026-01",
        "reported": 12,
        "assigned": 3,
        "in_time": 0,
        "in_time_rate": Decimal("0.0"),
        "median_hours": Decimal("5.5"),
    }
    cells = {
        c.key: cell for c, cell in zip(dataset.columns, suppress(dataset, [row], 5)[0], strict=True)
    }
    assert cells["reported"].value == 12 and not cells["reported"].suppressed
    assert cells["assigned"].suppressed and cells["assigned"].value is None
    assert cells["median_hours"].suppressed  # a median of three households
    assert cells["in_time"].value == 0 and not cells["in_time"].suppressed  # 0 is shown
    assert not suppress(dataset, [row], 0)[0][3].suppressed  # threshold 0: nothing withheld


class Tables(HTMLParser):
    """The cells of the page's table, as text, with whether each is marked withheld."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.rows: list[list[str]] = []
        self.links: list[str] = []
        self._cell = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append(attrs["href"])
        if tag == "tr":
            self.rows.append([])
        if tag in ("td", "th") and self.rows:
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def personal_values() -> set[str]:
    """Every name, ID number, phone, public key and application number in the demo city."""
    values = set()
    for name, id_number, phone, number, key in Application.objects.values_list(
        "name", "id_number", "phone", "number", "public_key"
    ):
        values |= {name, id_number, phone, number, key}
    values |= set(Household.objects.values_list("public_key", flat=True))
    for name, id_number in Subject.objects.values_list("name", "id_number"):
        values |= {name, id_number}
    # Keys of digits only could be a figure by chance; names of one character say nothing.
    return {v for v in values if v and len(v) >= 2 and not re.fullmatch(r"[\d.]{1,8}", v)}


def test_crawler_finds_no_personal_data_and_no_small_count(client):
    """Every page and download under /open-data/, reached from the site's footer."""
    assert 'href="/open-data/"' in client.get("/").content.decode()
    people = personal_values()
    assert len(people) > 20
    queue, seen = ["/open-data/"], set()
    while queue:
        url = queue.pop()
        if url in seen:
            continue
        seen.add(url)
        response = client.get(url)
        assert response.status_code == 200, url
        text = text_of(response)
        assert not ID_NUMBER.findall(text) and not MOBILE.findall(text), url
        leaked = [v for v in people if v in text]
        assert not leaked, (url, leaked[:3])
        if url.endswith(".json"):
            dataset = DATASETS[url.split("/")[-1].removesuffix(".json")]
            counts = [c.key for c in dataset.columns if c.kind == "count"]
            for row in json.loads(text)["rows"]:
                for key in counts:
                    assert row[key] is None or row[key] == 0 or row[key] >= LIMIT, (url, row)
        elif url.endswith(".csv"):
            dataset = DATASETS[url.split("/")[-1].removesuffix(".csv")]
            counts = [i for i, c in enumerate(dataset.columns) if c.kind == "count"]
            for line in list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))[1:]:
                for i in counts:
                    assert line[i] == f"<{LIMIT}" or int(line[i]) == 0 or int(line[i]) >= LIMIT
        else:
            page = Tables()
            page.feed(text)
            queue += [h for h in page.links if h.startswith("/open-data/")]
    assert {f"/open-data/{s}/" for s in TABLES} <= seen
    assert {f"/open-data/{s}.csv" for s in TABLES} <= seen
    assert {f"/open-data/{s}.json" for s in TABLES} <= seen


@pytest.mark.parametrize("slug", TABLES)
def test_page_csv_and_json_agree(client, slug, django_assert_max_num_queries):
    dataset = DATASETS[slug]
    with django_assert_max_num_queries(12):  # the dataset's few grouped queries, then the page
        html = client.get(f"/open-data/{slug}/").content.decode()
    assert "数据截至 " + (timezone.localdate() - timedelta(days=1)).isoformat() in html
    page = Tables()
    page.feed(html)
    body_rows = [r for r in page.rows[1:] if r]
    raw = client.get(f"/open-data/{slug}.csv")
    assert raw["Content-Type"].startswith("text/csv")
    text = text_of(raw)
    assert text.startswith("\ufeff")
    lines = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert lines[0] == page.rows[0]  # headings with their units
    body = client.get(f"/open-data/{slug}.json").json()
    assert [c["key"] for c in body["columns"]] == [c.key for c in dataset.columns]
    assert len(body["rows"]) == len(lines) - 1
    if not body["rows"]:
        return
    assert body_rows == lines[1:]
    for line, row in zip(lines[1:], body["rows"], strict=True):
        for cell, column in zip(line, dataset.columns, strict=True):
            value = row[column.key]
            if column.key in row["suppressed"]:
                assert value is None and cell == f"<{LIMIT}"
            elif value is None:
                assert cell in ("", "—")
            elif isinstance(value, float):
                assert float(cell) == pytest.approx(value)
            else:
                assert cell == str(value)


def test_etag_gives_304_and_cache_headers_last_until_midnight(client):
    first = client.get("/open-data/waitlist.json")
    assert first.status_code == 200
    assert first["ETag"] and first["Last-Modified"]
    assert "public" in first["Cache-Control"] and "max-age=" in first["Cache-Control"]
    max_age = int(re.search(r"max-age=(\d+)", first["Cache-Control"])[1])
    assert 0 <= max_age <= 24 * 3600
    again = client.get("/open-data/waitlist.json", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
    page = client.get("/open-data/waitlist/")
    # Pages carry a form token: browsers may keep them, shared caches may not.
    assert "private" in page["Cache-Control"] and "public" not in page["Cache-Control"]
    assert client.get("/open-data/waitlist/", HTTP_IF_NONE_MATCH=page["ETag"]).status_code == 304
    other = client.get("/open-data/waitlist/", HTTP_IF_NONE_MATCH='"something-else"')
    assert other.status_code == 200


def test_figures_are_cached_for_the_day(client, django_assert_max_num_queries):
    client.get("/open-data/rent-collection.json")
    with django_assert_max_num_queries(0):
        assert client.get("/open-data/rent-collection.json").status_code == 200


def test_unknown_dataset_is_404_and_the_operator_scores_are_linked(client):
    assert client.get("/open-data/no-such-thing/").status_code == 404
    assert client.get("/open-data/no-such-thing.csv").status_code == 404
    assert client.get("/open-data/no-such-thing.json").status_code == 404
    stale = client.get("/open-data/no-such-thing/", HTTP_IF_NONE_MATCH="*")
    assert stale.status_code == 404
    assert client.get("/open-data/operator-scores.csv").status_code == 404
    catalogue = client.get("/open-data/").content.decode()
    assert 'href="/operators/"' in catalogue
    for slug in TABLES:
        assert f'href="/open-data/{slug}/"' in catalogue
    assert client.get("/open-data/operator-scores/")["Location"] == "/operators/"


def test_threshold_setting_changes_what_is_withheld(client, settings):
    settings.ANJU_OPEN_DATA_MIN_COUNT = 10**9
    rows = client.get("/open-data/waitlist.json").json()["rows"]
    assert rows and all(r["households"] is None and r["median_months"] is None for r in rows)
    assert "&lt;1000000000" in client.get("/open-data/waitlist/").content.decode()


def test_english_page_renders(client):
    from tests.portal.test_english import english_client

    response = english_client().get("/open-data/applications/")
    assert response.status_code == 200
    assert '<html lang="en"' in response.content.decode()
    assert open_data.as_of().isoformat() in response.content.decode()
