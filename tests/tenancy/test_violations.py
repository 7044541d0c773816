"""Violation cases: one open case per lead (open_case is idempotent), only the legal step
transitions, photos kept without their metadata, the household told of a decision, a proposed
credit record kept on the case, and arrears warnings turned into cases."""

import io
from datetime import date, timedelta

import pytest
from django.utils import timezone
from PIL import Image

from archive import documents
from archive.models import Event
from credit.models import Proposal
from housing.errors import NotAllowed
from housing.models import Applicant, InboxMessage
from tenancy.models import ArrearsWarning, CaseRecord, ViolationCase, ViolationKind
from tenancy.services import violations
from tests.personas import make_staff
from tests.tenancy.rent import lease

Status = ViolationCase.Status


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (320, 240), (30, 120, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (33.0, 50.0, 40.0)
    gps[3], gps[4] = "E", (115.0, 46.0, 50.0)
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


@pytest.fixture
def contract(db):
    return lease(start=date(2026, 1, 1))


@pytest.fixture
def county_clerk(contract):
    return make_staff("v-district", "district", region=contract.household.county)


@pytest.fixture
def grid_worker(contract):
    return make_staff("v-community", "community", region=contract.unit.building.estate.community)


def open_for(contract, actor, ref="test:1", kind="sublet"):
    return violations.open_case(
        kind_code=kind,
        unit_id=contract.unit_id,
        contract_id=contract.pk,
        household_id=contract.household_id,
        source="recheck",
        source_ref=ref,
        summary="不动产登记显示家庭名下新增住房",
        evidence={"department": "不动产"},
        actor=actor,
    )


def test_the_kinds_come_from_the_data_file_with_their_deadlines_and_credit_conduct(db):
    kinds = dict(ViolationKind.objects.values_list("code", "credit_conduct"))
    assert set(kinds) >= {"sublet", "idle", "arrears", "misuse", "damage", "false_info"}
    assert all(kinds.values())
    idle = ViolationKind.objects.get(code="idle")
    assert idle.rule["months"] == 6 and idle.investigation_days > 0


def test_open_case_is_idempotent_per_open_lead_and_a_new_lead_opens_a_new_case(
    contract, county_clerk
):
    first = open_for(contract, county_clerk)
    again = open_for(contract, county_clerk)
    assert again.pk == first.pk
    assert ViolationCase.objects.filter(unit=contract.unit, source_ref="test:1").count() == 1
    assert Event.objects.filter(action="violation.opened", after__case=first.pk).count() == 1
    other = open_for(contract, county_clerk, ref="test:2")
    assert other.pk != first.pk
    assert first.status == Status.INVESTIGATING
    assert first.step_due == timezone.localdate() + timedelta(days=first.kind.investigation_days)


def test_a_closed_case_does_not_block_the_same_lead_from_opening_again(contract, county_clerk):
    case = open_for(contract, county_clerk)
    violations.add_record(case.pk, kind="visit", text="入户未见异常", actor=county_clerk)
    violations.conclude_investigation(case.pk, found=False, reason="查无转租", actor=county_clerk)
    reopened = open_for(contract, county_clerk)
    assert reopened.pk != case.pk


def test_without_a_contract_the_units_live_lease_and_household_are_attached(contract, county_clerk):
    case = violations.open_case(
        kind_code="misuse",
        unit_id=contract.unit_id,
        contract_id=None,
        household_id=None,
        source="manual",
        source_ref="",
        summary="一楼住户开设小卖部",
        evidence={},
        actor=county_clerk,
    )
    assert (case.contract_id, case.household_id) == (contract.pk, contract.household_id)


def test_an_unknown_kind_or_source_is_refused(contract, county_clerk):
    with pytest.raises(NotAllowed, match="违规类型"):
        open_for(contract, county_clerk, kind="nope")


def test_the_full_path_warning(contract, county_clerk):
    case = open_for(contract, county_clerk)
    with pytest.raises(NotAllowed, match="至少一条"):
        violations.conclude_investigation(case.pk, found=True, reason="x", actor=county_clerk)
    with pytest.raises(NotAllowed, match="不能作出处理决定"):
        violations.decide(case.pk, decision="warning", reason="x", actor=county_clerk)
    violations.add_record(
        case.pk, kind="interview", text="约谈承租人，承认转借亲戚", actor=county_clerk
    )
    violations.conclude_investigation(case.pk, found=True, reason="转借属实", actor=county_clerk)
    case.refresh_from_db()
    assert case.status == Status.DECIDING
    applicant = Applicant.objects.create(phone="13800009999")
    type(contract.household).objects.filter(pk=contract.household_id).update(applicant=applicant)
    violations.decide(
        case.pk,
        decision="warning",
        reason="首次转借，已收回",
        credit_conduct="sublet",
        credit_reason="转借他人居住",
        actor=county_clerk,
    )
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.CLOSED, "warned")
    assert case.proposed_credit["conduct"] == "sublet"
    proposal = Proposal.objects.get(source="violation", source_ref=f"violation:{case.pk}")
    assert proposal.conduct.code == "sublet" and proposal.status == "notified"
    assert proposal.subject.household_id == contract.household_id
    assert case.proposed_credit["proposal"] == proposal.pk
    told = {m.subject: m.body for m in InboxMessage.objects.filter(applicant=applicant)}
    assert set(told) == {"违规处理决定：警告", "拟认定失信：转租、转借或擅自调换承租住房"}
    assert "首次转借" in told["违规处理决定：警告"]
    assert f"{proposal.objection_until:%Y-%m-%d} 前" in told[next(k for k in told if "失信" in k)]
    with pytest.raises(NotAllowed):
        violations.add_record(case.pk, kind="note", text="结案后补充", actor=county_clerk)
    actions = list(
        Event.objects.filter(after__case=case.pk, action__startswith="violation.")
        .order_by("pk")
        .values_list("action", flat=True)
    )
    assert actions == [
        "violation.opened",
        "violation.record",
        "violation.investigated",
        "violation.decided",
    ]


def test_rectification_needs_a_future_deadline_and_its_follow_up_closes_or_returns(
    contract, county_clerk
):
    case = open_for(contract, county_clerk, kind="damage")
    violations.add_record(case.pk, kind="visit", text="擅自拆除隔墙", actor=county_clerk)
    violations.conclude_investigation(case.pk, found=True, reason="属实", actor=county_clerk)
    today = timezone.localdate()
    with pytest.raises(NotAllowed, match="整改期限"):
        violations.decide(
            case.pk,
            decision="rectification",
            reason="恢复原状",
            rectify_by=today,
            actor=county_clerk,
        )
    violations.decide(
        case.pk,
        decision="rectification",
        reason="恢复原状",
        rectify_by=today + timedelta(days=30),
        actor=county_clerk,
    )
    case.refresh_from_db()
    assert (case.status, case.step_due) == (Status.RECTIFYING, today + timedelta(days=30))
    assert not case.is_overdue(today) and case.is_overdue(today + timedelta(days=31))
    violations.follow_up(case.pk, rectified=False, text="未恢复", actor=county_clerk)
    case.refresh_from_db()
    assert case.status == Status.DECIDING
    violations.decide(
        case.pk,
        decision="rectification",
        reason="再限期",
        rectify_by=today + timedelta(days=10),
        actor=county_clerk,
    )
    violations.follow_up(case.pk, rectified=True, text="已恢复原状", actor=county_clerk)
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.CLOSED, "rectified")
    assert case.records.filter(kind=CaseRecord.Kind.FOLLOW_UP).count() == 2


def test_only_the_county_decides_and_nobody_outside_the_jurisdiction_touches_a_case(
    contract, county_clerk, grid_worker
):
    case = open_for(contract, grid_worker)
    violations.add_record(case.pk, kind="visit", text="多次敲门无人", actor=grid_worker)
    violations.conclude_investigation(case.pk, found=True, reason="属实", actor=grid_worker)
    with pytest.raises(NotAllowed, match="县（区）住房保障部门"):
        violations.decide(case.pk, decision="warning", reason="x", actor=grid_worker)
    other_county = (
        type(contract.household.county)
        .objects.filter(level="district")
        .exclude(pk=contract.household.county_id)
        .first()
    )
    outsider = make_staff("v-other", "district", region=other_county)
    with pytest.raises(NotAllowed, match="管辖范围"):
        violations.decide(case.pk, decision="warning", reason="x", actor=outsider)
    with pytest.raises(NotAllowed, match="管辖范围"):
        violations.add_record(case.pk, kind="note", text="x", actor=outsider)


def test_every_move_outside_the_transition_table_is_refused(contract, county_clerk):
    """Walk every status with every action: what the table does not allow is refused."""
    today = timezone.localdate()
    actions = {
        "conclude": lambda c: violations.conclude_investigation(
            c.pk, found=True, reason="r", actor=county_clerk
        ),
        "decide": lambda c: violations.decide(
            c.pk, decision="warning", reason="r", actor=county_clerk
        ),
        "rectify": lambda c: violations.decide(
            c.pk,
            decision="rectification",
            reason="r",
            rectify_by=today + timedelta(days=5),
            actor=county_clerk,
        ),
        "follow_up": lambda c: violations.follow_up(
            c.pk, rectified=True, text="t", actor=county_clerk
        ),
    }
    allowed = {
        Status.INVESTIGATING: {"conclude"},
        Status.DECIDING: {"decide", "rectify"},
        Status.RECTIFYING: {"follow_up"},
        Status.CLOSED: set(),
    }
    for n, status in enumerate(allowed):
        for name in actions:
            case = open_for(contract, county_clerk, ref=f"walk:{n}:{name}")
            violations.add_record(case.pk, kind="visit", text="核查", actor=county_clerk)
            path = {
                Status.INVESTIGATING: [],
                Status.DECIDING: ["conclude"],
                Status.RECTIFYING: ["conclude", "rectify"],
                Status.CLOSED: ["conclude", "decide"],
            }[status]
            for step in path:
                actions[step](case)
            case.refresh_from_db()
            assert case.status == status
            if name in allowed[status]:
                actions[name](case)
                case.refresh_from_db()
                assert case.status in violations.TRANSITIONS[status]
            else:
                with pytest.raises(NotAllowed):
                    actions[name](case)


def test_photos_of_a_visit_are_kept_without_location_metadata(contract, grid_worker):
    case = open_for(contract, grid_worker)
    record = violations.add_record(
        case.pk,
        kind="visit",
        text="门口堆放杂物",
        photos=[("门口.jpg", jpeg_with_gps())],
        actor=grid_worker,
    )
    (photo,) = record.photos.all()
    kept = documents.read(photo)
    assert b"PhoneMaker" not in kept and not Image.open(io.BytesIO(kept)).getexif()
    with pytest.raises(NotAllowed, match=r"“假\.jpg”"):
        violations.add_record(
            case.pk, kind="visit", text="x", photos=[("假.jpg", b"%PDF-1.7")], actor=grid_worker
        )


def test_an_arrears_warning_becomes_one_arrears_case(contract, county_clerk):
    warning = ArrearsWarning.objects.create(
        contract=contract, raised_at=timezone.now(), months=7, amount="2940.00"
    )
    case = violations.open_arrears_case(warning.pk, actor=county_clerk)
    assert (case.kind.code, case.source, case.contract_id) == ("arrears", "arrears", contract.pk)
    assert violations.open_arrears_case(warning.pk, actor=county_clerk).pk == case.pk


@pytest.mark.parametrize("decision", ["recover", "cancel"])
def test_recovering_the_unit_or_cancelling_starts_the_exit_of_the_lease(
    contract, county_clerk, decision
):
    from tenancy.models import Exit

    case = open_for(contract, county_clerk)
    violations.add_record(case.pk, kind="visit", text="房屋由他人经营棋牌室", actor=county_clerk)
    violations.conclude_investigation(case.pk, found=True, reason="属实", actor=county_clerk)
    violations.decide(case.pk, decision=decision, reason="转租拒不改正", actor=county_clerk)
    case.refresh_from_db()
    assert (case.status, case.outcome) == (Status.CLOSED, "exit")
    exit_ = Exit.objects.get(contract=contract, source_ref=f"violation:{case.pk}")
    assert (exit_.reason, exit_.source_ref) == ("violation", f"violation:{case.pk}")
    event = Event.objects.get(action="violation.decided", after__case=case.pk)
    assert event.after["exit"] == exit_.pk


def test_a_decision_that_cannot_start_an_exit_changes_nothing(contract, county_clerk):
    case = open_for(contract, county_clerk)
    violations.add_record(case.pk, kind="visit", text="核查", actor=county_clerk)
    violations.conclude_investigation(case.pk, found=True, reason="属实", actor=county_clerk)
    type(contract).objects.filter(pk=contract.pk).update(status="ended")
    with pytest.raises(NotAllowed, match="只有履行中的合同"):
        violations.decide(case.pk, decision="recover", reason="收回", actor=county_clerk)
    case.refresh_from_db()
    assert case.status == Status.DECIDING and not case.decision
