"""自动预警: each rule fires on a seeded case and not on its near miss; the refresh is idempotent
and clears what has cleared (with an archive event); staff acknowledge and resolve within their
jurisdiction only; the daily digest counts per rule; a bad rules file names its fault."""

import json
from datetime import date, timedelta

import pytest
from django.core import mail
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from allocation.models import Offer
from archive.models import Event
from disclosure.models import Objection, Publication
from geo.models import Region, Unit
from housing.models import Application
from insights.models import StaffMessage, Warning
from insights.warnings import digest
from insights.warnings.finders import FINDERS
from insights.warnings.refresh import refresh
from insights.warnings.rules import RULES_FILE, RulesError, load_rules, parse
from tenancy.models import AnnualReview, Bill, Complaint, Contract, RecheckHit
from tests.tenancy.rent import lease

pytestmark = pytest.mark.django_db

HOME, OTHER = "341602", "341621"


def ids(code: str, thresholds: dict, now=None) -> set[tuple[str, int]]:
    return {(f.kind, f.id) for f in FINDERS[code](thresholds, now or timezone.now())}


# --- each rule: fires on a seeded case, not on its near miss ---------------------------------


def test_review_overdue_fires_past_the_deadline_only():
    now = timezone.now()
    case = Application.objects.exclude(stage__in=["draft", "rejected"]).order_by("pk").first()
    Application.objects.filter(pk=case.pk).update(
        stage="first_review", returned=False, stage_deadline=now - timedelta(minutes=1)
    )
    assert ("application", case.pk) in ids("review_overdue", {"days": 0}, now)
    Application.objects.filter(pk=case.pk).update(stage_deadline=now + timedelta(minutes=1))
    assert ("application", case.pk) not in ids("review_overdue", {"days": 0}, now)
    # returned for correction: the applicant's turn, not an overdue step
    Application.objects.filter(pk=case.pk).update(
        stage_deadline=now - timedelta(days=3), returned=True
    )
    assert ("application", case.pk) not in ids("review_overdue", {"days": 0}, now)


def test_offer_expiring_within_the_window_only():
    now = timezone.now()
    offer = Offer.objects.filter(status="pending").order_by("pk").first()
    assert offer is not None, "the demo has pending offers"
    Offer.objects.filter(pk=offer.pk).update(expires_at=now + timedelta(hours=47))
    assert ("offer", offer.pk) in ids("offer_expiring", {"hours": 48}, now)
    Offer.objects.filter(pk=offer.pk).update(expires_at=now + timedelta(hours=49))
    assert ("offer", offer.pk) not in ids("offer_expiring", {"hours": 48}, now)


def test_contract_ending_within_the_days_only():
    today = timezone.localdate()
    contract = lease(start=date(2023, 1, 1), end=today + timedelta(days=92))
    assert ("contract", contract.pk) in ids("contract_ending", {"days": 92})
    Contract.objects.filter(pk=contract.pk).update(end_date=today + timedelta(days=93))
    assert ("contract", contract.pk) not in ids("contract_ending", {"days": 92})


def overdue_bills(contract: Contract, n: int) -> None:
    today = timezone.localdate()
    for i in range(n):
        month = date(2024, 1 + i, 1)
        Bill.objects.create(
            contract=contract,
            month=month,
            reference=f"W{contract.pk}-{i}",
            rent="600.00",
            subsidy="0.00",
            amount="600.00",
            days=30,
            due_date=min(month + timedelta(days=15), today - timedelta(days=1)),
        )


def test_arrears_fires_at_n_months_not_at_n_minus_one():
    first = lease(start=date(2024, 1, 1))
    second = lease(start=date(2024, 1, 1), skip=1)
    overdue_bills(first, 3)
    overdue_bills(second, 2)
    found = ids("arrears", {"months": 3})
    assert ("contract", first.pk) in found
    assert ("contract", second.pk) not in found
    # paid in full, a month no longer counts
    Bill.objects.filter(pk=Bill.objects.filter(contract=first).order_by("month")[0].pk).update(
        status=Bill.Status.PAID, paid="600.00"
    )
    assert ("contract", first.pk) not in ids("arrears", {"months": 3})


def test_unit_vacant_at_180_days_not_a_day_less():
    now = timezone.now()
    unit = Unit.objects.filter(status="vacant").order_by("pk").first()
    Unit.objects.filter(pk=unit.pk).update(updated_at=now - timedelta(days=180))
    assert ("unit", unit.pk) in ids("unit_vacant", {"days": 180}, now)
    Unit.objects.filter(pk=unit.pk).update(updated_at=now - timedelta(days=179))
    assert ("unit", unit.pk) not in ids("unit_vacant", {"days": 180}, now)


def test_recheck_hit_fires_while_open_only():
    hit = RecheckHit.objects.filter(status="open").order_by("pk").first()
    assert hit is not None, "the demo has open re-check hits"
    assert ("recheck_hit", hit.pk) in ids("recheck_hit", {"days": 0})
    RecheckHit.objects.filter(pk=hit.pk).update(status=RecheckHit.Status.DISMISSED)
    assert ("recheck_hit", hit.pk) not in ids("recheck_hit", {"days": 0})


def test_annual_review_missed_after_the_deadline_only():
    today = timezone.localdate()
    review = AnnualReview.objects.order_by("pk").first()
    AnnualReview.objects.filter(pk=review.pk).update(
        status="open", opened_on=today - timedelta(days=60), due_date=today - timedelta(days=1)
    )
    assert ("annual_review", review.pk) in ids("annual_review_missed", {"days": 0})
    AnnualReview.objects.filter(pk=review.pk).update(due_date=today)
    assert ("annual_review", review.pk) not in ids("annual_review_missed", {"days": 0})


def complain(unit: Unit, n: int) -> Complaint:
    estate = unit.building.estate
    return Complaint.objects.create(
        reference=f"WT{unit.pk}-{n}",
        estate=estate,
        county_id=estate.district_id,
        unit=unit,
        text="同一套房屋多次被举报",
    )


def test_repeated_complaints_count_within_the_window():
    now = timezone.now()
    unit = Unit.objects.select_related("building__estate").order_by("-pk").first()
    Complaint.objects.filter(unit=unit).delete()
    complain(unit, 1)
    older = complain(unit, 2)
    rule = {"count": 2, "days": 90}
    assert ("unit", unit.pk) in ids("repeated_complaints", rule, now)
    Complaint.objects.filter(pk=older.pk).update(created_at=now - timedelta(days=91))
    assert ("unit", unit.pk) not in ids("repeated_complaints", rule, now)


def test_publicity_ending_with_an_open_objection_only():
    """Publications are immutable: the clock moves instead of the period's end."""
    publication = Publication.objects.filter(period_ends_at__isnull=False).order_by("pk").first()
    ends = publication.period_ends_at
    Objection.objects.filter(publication=publication).update(status="dismissed")
    objection = Objection.objects.create(
        publication=publication, item_key="k", name="张三", contact="139", reason="有异议"
    )
    key, rule = ("publication", publication.pk), {"days": 2}
    assert key in ids("publicity_objections", rule, ends - timedelta(days=1))
    assert key not in ids("publicity_objections", rule, ends - timedelta(days=3))
    Objection.objects.filter(pk=objection.pk).update(status="dismissed")
    assert key not in ids("publicity_objections", rule, ends - timedelta(days=1))


# --- the refresh -----------------------------------------------------------------------------


def test_refresh_is_idempotent_and_clears_with_an_archive_event():
    today = timezone.localdate()
    contract = lease(start=date(2023, 1, 1), end=today + timedelta(days=30))
    refresh()
    live = Warning.objects.live()
    before = (live.count(), Event.objects.filter(action__startswith="warning.").count())
    assert before[0] > 0
    warning = live.get(rule="contract_ending", subject_kind="contract", subject_id=contract.pk)
    assert warning.county.adcode == HOME and warning.estate_id == contract.unit.building.estate_id
    again = refresh()
    assert all(o.raised == 0 and o.cleared == 0 for o in again)
    assert (live.count(), Event.objects.filter(action__startswith="warning.").count()) == before
    Contract.objects.filter(pk=contract.pk).update(end_date=today + timedelta(days=400))
    refresh()
    warning.refresh_from_db()
    assert warning.status == Warning.Status.RESOLVED and warning.auto_resolved
    event = Event.objects.get(action="warning.cleared", after__warning=warning.pk)
    assert event.household_id == contract.household_id
    assert live.count() == before[0] - 1


# --- the centre: jurisdiction, actions, query count ------------------------------------------


def make_warning(adcode: str, n: int, rule: str = "contract_ending") -> Warning:
    now = timezone.now()
    county = Region.objects.get(adcode=adcode)
    return Warning.objects.create(
        rule=rule,
        subject_kind="contract",
        subject_id=900_000 + n,
        summary=f"测试预警 {adcode}-{n}",
        county=county,
        first_seen_at=now,
        last_seen_at=now,
    )


def test_a_county_sees_its_own_warnings_only(client, cast):
    mine, theirs = make_warning(HOME, 1), make_warning(OTHER, 2)
    client.force_login(cast.users["district"])
    html = client.get(reverse("warnings")).content.decode()
    assert mine.summary in html and theirs.summary not in html
    act = reverse("warning-act", args=[theirs.pk, "acknowledge"])
    assert client.post(act).status_code == 404
    assert client.get(reverse("warnings") + f"?county={OTHER}").status_code == 404
    client.force_login(cast.users["city"])
    html = client.get(reverse("warnings") + f"?county={OTHER}").content.decode()
    assert theirs.summary in html and mine.summary not in html


def test_acknowledge_and_resolve_record_events(client, cast):
    warning = make_warning(HOME, 3)
    user = cast.users["district"]
    client.force_login(user)
    client.post(reverse("warning-act", args=[warning.pk, "acknowledge"]))
    warning.refresh_from_db()
    assert warning.status == "acknowledged" and warning.acknowledged_by == user
    assert Event.objects.filter(action="warning.acknowledged", after__warning=warning.pk).exists()
    client.post(reverse("warning-act", args=[warning.pk, "resolve"]), {"note": " "})
    warning.refresh_from_db()
    assert warning.status == "acknowledged", "a resolution needs a note"
    client.post(reverse("warning-act", args=[warning.pk, "resolve"]), {"note": "已联系承租人续租"})
    warning.refresh_from_db()
    assert warning.status == "resolved" and not warning.auto_resolved
    assert warning.resolution == "已联系承租人续租" and warning.resolved_by == user
    event = Event.objects.get(action="warning.resolved", after__warning=warning.pk)
    assert event.actor == user and event.reason == "已联系承租人续租"
    assert client.get(reverse("warning-act", args=[warning.pk, "resolve"])).status_code == 405


def test_the_centre_costs_the_same_queries_for_3_rows_or_30(client, cast):
    client.force_login(cast.users["city"])
    for n in range(3):
        make_warning(HOME, 100 + n)
    with CaptureQueriesContext(connection) as few:
        assert client.get(reverse("warnings")).status_code == 200
    for n in range(27):
        make_warning(OTHER if n % 2 else HOME, 200 + n, rule="arrears")
    with CaptureQueriesContext(connection) as many:
        html = client.get(reverse("warnings")).content.decode()
    assert len(many.captured_queries) == len(few.captured_queries)
    assert html.count("测试预警") == 30


def test_the_staff_home_counts_live_warnings(client, cast):
    for n in range(2):
        make_warning(HOME, 300 + n)
    client.force_login(cast.users["district"])
    html = client.get(reverse("staff-home")).content.decode()
    name = load_rules()["contract_ending"].name
    assert f'href="{reverse("warnings")}?rule=contract_ending"' in html
    assert f'<strong class="todo-count">2</strong><span class="todo-label">{name}' in html


# --- the digest ------------------------------------------------------------------------------


def test_the_digest_counts_per_rule_within_each_jurisdiction(
    cast, django_capture_on_commit_callbacks
):
    make_warning(HOME, 401)
    make_warning(HOME, 402)
    make_warning(OTHER, 403, rule="arrears")
    rules = load_rules()
    district, city = cast.users["district"], cast.users["city"]
    district.email = "county@example.org"
    district.save(update_fields=["email"])
    with (
        override_settings(EMAIL_HOST="smtp.example.org"),
        django_capture_on_commit_callbacks(execute=True),
    ):
        digest.send_digest()
    mine = StaffMessage.objects.get(recipient=district)
    assert f"{rules['contract_ending'].name}：2 条" in mine.body
    assert rules["arrears"].name not in mine.body
    theirs = StaffMessage.objects.get(recipient=city)
    assert f"{rules['contract_ending'].name}：2 条" in theirs.body
    assert f"{rules['arrears'].name}：1 条" in theirs.body
    assert not StaffMessage.objects.filter(recipient=cast.users["operator"]).exists()
    assert [m.to for m in mail.outbox] == [["county@example.org"]]
    digest.send_digest()  # the same day again: nothing new
    assert StaffMessage.objects.filter(recipient=district).count() == 1


def test_the_inbox_shows_ones_own_messages(client, cast):
    StaffMessage.objects.create(recipient=cast.users["district"], subject="给县里", body="b")
    StaffMessage.objects.create(recipient=cast.users["city"], subject="给市里", body="b")
    client.force_login(cast.users["district"])
    html = client.get(reverse("staff-messages")).content.decode()
    assert "给县里" in html and "给市里" not in html
    client.post(reverse("staff-messages-read"))
    assert not StaffMessage.objects.filter(
        recipient=cast.users["district"], read_at__isnull=True
    ).exists()


# --- the rules file --------------------------------------------------------------------------


def shipped() -> dict:
    return json.loads(RULES_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d["rules"][3]["thresholds"].update(months="3"), "thresholds.months"),
        (lambda d: d["rules"][3]["thresholds"].update(months=0), "thresholds.months"),
        (lambda d: d["rules"][4].update(severity="urgent"), "severity"),
        (lambda d: d["rules"][0].update(enabled="yes"), "enabled"),
        (lambda d: d["rules"][1]["thresholds"].pop("hours"), "thresholds.hours"),
    ],
)
def test_a_bad_rules_file_names_the_rule_and_field(change, named):
    data = shipped()
    change(data)
    with pytest.raises(RulesError) as caught:
        parse(json.dumps(data))
    assert named in str(caught.value)
    assert "预警规则" in str(caught.value)


def test_unknown_missing_or_broken_rules_are_refused(tmp_path):
    data = shipped()
    data["rules"][0]["code"] = "nope"
    with pytest.raises(RulesError, match="nope"):
        parse(json.dumps(data))
    data = shipped()
    data["rules"].pop()
    with pytest.raises(RulesError, match="publicity_objections"):
        parse(json.dumps(data))
    broken = tmp_path / "rules.json"
    broken.write_text("{", encoding="utf-8")
    with pytest.raises(RulesError, match="JSON"):
        load_rules(broken)
    assert set(load_rules()) == set(FINDERS)


def test_the_command_reports_each_rule():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("refresh_warnings", stdout=out)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith(f"[1/{len(FINDERS)}] ") and "新增" in lines[0]
    assert len(lines) == len(FINDERS) + 1
