"""The application's life: sign-in codes, drafts, submission, the review chain, the data check,
publicity and approval. Every change is one transaction with its archive event."""

import re
import secrets
from datetime import timedelta
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from archive.numbering import next_yearly_number
from archive.ratelimit import Rate, hit
from archive.services import record_event
from credit import selectors as credit
from credit import services as credit_services
from credit.models import Effect
from disclosure.calendar import add_working_days
from disclosure.models import Kind, Objection, Publication
from disclosure.services import enqueue_publication
from exchange.idcard import validate_id_number
from exchange.licences import licence_source_for
from exchange.models import Evidence
from exchange.sources import DataSource, SourceUnavailable, query_all
from housing import identity, licences, rules
from housing.case_push import push_soon
from housing.errors import NotAllowed
from housing.households import create_household
from housing.inbox import notify_applicant
from housing.messages import sms_text
from housing.models import (
    Applicant,
    Application,
    CountyPolicy,
    DataCheck,
    EligibilityRule,
    Member,
    OneTimeCode,
    ReviewStep,
)
from housing.sms import send_sms

CODE_MINUTES = 10
CODE_TRIES = 5
# Sign-in codes: one a minute and five an hour per phone, twenty an hour per client address.
SEND_GAP = Rate("sms-phone-gap", 1, 60)
SENDS_PER_PHONE = Rate("sms-phone-hour", 5, 3600)
SENDS_PER_IP = Rate("sms-ip-hour", 20, 3600)
MOBILE = re.compile(r"^1[3-9]\d{9}$")
APPLICATION_NUMBER_LOCK = 7_331_001
FROZEN_AFTER_SUBMIT = ("id_number", "name", "county_id", "street_id", "community_id")
PREFILLS = Rate("prefill-applicant", 5, 3600)


# --- sign-in ---------------------------------------------------------------------------------


def _hash(phone: str, code: str) -> str:
    """Keyed with SECRET_KEY: a copy of the table alone cannot try the million codes offline."""
    return salted_hmac(
        "anju.housing.sign-in-code", f"{phone}:{code}", algorithm="sha256"
    ).hexdigest()


def send_code(
    phone: str,
    *,
    ip: str | None,
    purpose: str = "sign-in",
    message: str = "sign_in.code",
    values: dict | None = None,
) -> None:
    """A six-digit code by SMS, at most one a minute and five an hour per phone.

    The address is counted first, so a client over its limit spends no phone's allowance. A
    code serves one purpose only (signing in, or confirming one contract): `message` is the
    SMS template (housing/messages.py), filled with {code}, {minutes} and `values`.
    """
    phone = phone.strip()
    if not MOBILE.match(phone):
        raise NotAllowed(gettext("请输入 11 位手机号码。"))
    if not hit(SENDS_PER_IP, ip):
        raise NotAllowed(gettext("发送次数过多，请稍后再试。"))
    # One a minute per purpose (a tenant who just signed in may ask for a contract code at
    # once); the hourly cap counts every purpose together.
    if not hit(SEND_GAP, phone if purpose == "sign-in" else f"{purpose}:{phone}"):
        raise NotAllowed(gettext("验证码已发送，请一分钟后再试。"))
    if not hit(SENDS_PER_PHONE, phone):
        raise NotAllowed(gettext("发送次数过多，请一小时后再试。"))
    now = timezone.now()
    code = f"{secrets.randbelow(10**6):06d}"
    OneTimeCode.objects.create(
        phone=phone,
        code_hash=_hash(phone, code),
        expires_at=now + timedelta(minutes=CODE_MINUTES),
        ip=ip,
        purpose=purpose,
    )
    send_sms(phone, sms_text(message, **(values or {}), code=code, minutes=CODE_MINUTES))


def verify_code(phone: str, code: str, purpose: str = "sign-in") -> Applicant:
    """The applicant for a correct, fresh, unused code of that purpose; five wrong tries spoil
    a code.

    A wrong try is committed before the error is raised, so it counts even though it fails.
    """
    with transaction.atomic():
        otp = (
            OneTimeCode.objects.select_for_update()
            .filter(
                phone=phone.strip(),
                purpose=purpose,
                used_at__isnull=True,
                expires_at__gt=timezone.now(),
            )
            .order_by("-created_at")
            .first()
        )
        if otp is None or otp.attempts >= CODE_TRIES:
            problem = gettext("验证码已失效，请重新获取。")
        elif otp.code_hash != _hash(otp.phone, code.strip()):
            otp.attempts += 1
            otp.save(update_fields=["attempts"])
            left = CODE_TRIES - otp.attempts
            problem = (
                gettext("验证码不正确，还可尝试 %(left)s 次。") % {"left": left}
                if left
                else gettext("验证码已失效，请重新获取。")
            )
        else:
            otp.used_at = timezone.now()
            otp.save(update_fields=["used_at"])
            applicant, _ = Applicant.objects.get_or_create(phone=otp.phone)
            return applicant
    raise NotAllowed(problem)


# --- applying --------------------------------------------------------------------------------


def _number() -> str:
    return next_yearly_number(Application.objects.all(), "number", "SQ", APPLICATION_NUMBER_LOCK)


def prefill(
    id_number: str,
    name: str,
    source: DataSource | None = None,
    *,
    applicant: Applicant | None = None,
) -> dict:
    """零证明: household members and registered property, from 公安 and 不动产, for the form.

    Each query is recorded and limited per applicant: a stranger's ID and name must not become
    a way to browse households.
    """
    if error := validate_id_number(id_number):
        raise NotAllowed(error)
    if applicant is not None:
        if not hit(PREFILLS, applicant.pk):
            raise NotAllowed(gettext("查询次数过多，请一小时后再试或手动填写。"))
        record_event(
            "application.prefill",
            f"申请人查询部门数据（身份证 {id_number[:6]}********{id_number[-4:]}）",
            actor=None,
            after={"applicant": applicant.pk},
        )
    police = (source or _source()).fetch("police", id_number)
    identity.check_name(police.payload, name, id_number)
    property_ = (source or _source()).fetch("property", id_number)
    return {
        "members": police.payload.get("members", []),
        "hukou_county": police.payload.get("hukou_county"),
        "properties": property_.payload.get("properties", []),
        "vehicles": police.payload.get("vehicles", []),
        "fetched_at": police.fetched_at.isoformat(),
    }


def _source():
    from exchange.sources import default_source

    return default_source()


def save_application(
    application: Application,
    members: list[dict],
    *,
    submit: bool,
    actor=None,
    source: DataSource | None = None,
    vouched_by: str = "",
) -> Application:
    """Save a draft (or a correction), and on submit put it at the first step of the chain.

    An online case is first submitted only after 公安 confirmed who applies (housing.identity):
    IdentityProblem and IdentityBlocked reach the page, which offers a claim for the latter.
    An online submission also fetches the 电子证照 (housing.licences); if the licence service
    fails the case is still submitted and `licence_problem` on the result says why.
    `vouched_by` names the identity provider that vouched for the name and ID number (统一身份
    认证): the first submission records it in the file, in the same transaction.
    """
    proof = None
    first_submission = submit and not application.submitted_at
    held, licence_problem = {}, ""
    if submit and application.channel == Application.Channel.ONLINE:
        if error := validate_id_number(application.id_number):
            raise NotAllowed(error)
        if not application.submitted_at and application.applicant is not None:
            proof = identity.verify(application, application.applicant, source or _source())
        if application.applicant is not None and not licences.recorded(application):
            held, licence_problem = licences.fetch(
                application.id_number, licence_source_for(source)
            )
    try:
        with transaction.atomic():
            saved = _save_application(application, members, submit=submit, actor=actor)
            if proof is not None:
                record_event(
                    "application.identity_verified",
                    f"{saved.number} 姓名与身份证号经公安户籍核验一致",
                    actor=None,
                    household_id=saved.pk,
                    after={
                        "source": proof.source,
                        "fetched_at": proof.fetched_at.isoformat(),
                        "payload_hash": proof.payload_hash,
                    },
                )
            if first_submission and vouched_by:
                record_event(
                    "application.identity_vouched",
                    f"{saved.number} 姓名与身份证号经政务服务网统一身份认证核验",
                    actor=None,
                    household_id=saved.pk,
                    after={"identity": "oidc", "verified_by": vouched_by},
                )
            licences.record(saved, held)
            saved.licence_problem = licence_problem
            return saved
    except IntegrityError as exc:
        if "one_open_application" in str(exc):
            raise NotAllowed(gettext("该身份证号已有正在办理的申请，不能重复申请。")) from exc
        raise


def _save_application(
    application: Application, members: list[dict], *, submit: bool, actor=None
) -> Application:
    if error := validate_id_number(application.id_number):
        raise NotAllowed(error)
    if application.stage not in (Application.Stage.DRAFT,) and not application.returned:
        raise NotAllowed(gettext("申请已提交，不能修改。"))
    if submit and not application.consent:
        raise NotAllowed(gettext("提交前须同意向有关部门查询家庭信息。"))
    if application.pk and application.submitted_at:
        # A correction may change the details asked for, not who applies or where.
        before = Application.objects.get(pk=application.pk)
        for field in FROZEN_AFTER_SUBMIT:
            if getattr(before, field) != getattr(application, field):
                label = Application._meta.get_field(field.removesuffix("_id")).verbose_name
                raise NotAllowed(
                    gettext("补正时不能修改“%(label)s”；如需变更请撤回后重新申请。")
                    % {"label": label}
                )
    if submit and not any((m.get("name") or "").strip() for m in members):
        raise NotAllowed(
            gettext("请填写家庭成员（至少包括申请人本人），可点击“查询部门数据”自动填写。")
        )
    if submit:
        ids = [application.id_number, *(m.get("id_number", "") for m in members)]
        held = credit.holds([i for i in ids if i], Effect.APPLY, timezone.localdate())
        if held:
            raise NotAllowed(held[0].reason)
    if not application.number:
        application.number = _number()
    application.save()
    application.members.all().delete()
    Member.objects.bulk_create(
        Member(
            application=application,
            name=m["name"],
            relation=m.get("relation", ""),
            id_number=m.get("id_number", ""),
        )
        for m in members
        if m.get("name")
    )
    if submit:
        policy = policy_for(application.county)
        if application.returned:
            step = application.stage
            application.returned = False
            summary = f"补正后重新提交（{application.get_stage_display()}）"
        else:
            step = policy.review_chain[0]["step"]
            application.submitted_at = timezone.now()
            summary = "提交申请"
        _enter(application, step, policy)
        ReviewStep.objects.create(
            application=application, step=step, decision="submit", actor=actor
        )
        record_event(
            "application.submitted",
            f"{application.number} {summary}",
            actor=actor,
            household_id=application.pk,
        )
    return application


def policy_for(county) -> CountyPolicy:
    policy, _ = CountyPolicy.objects.get_or_create(county=county)
    return policy


def _enter(application: Application, step: str, policy: CountyPolicy) -> None:
    days = (policy.step(step) or {}).get("days") or 0
    application.stage = step
    application.stage_deadline = add_working_days(timezone.now(), days) if days else None
    application.save()
    push_soon(application.pk)  # the trigger wrote the push row; send it after commit


# --- the review chain ------------------------------------------------------------------------


def _last_submitted(application: Application):
    submitted = application.steps.filter(decision="submit").order_by("-decided_at").first()
    return submitted.decided_at if submitted else application.created_at


def _check_actor(application: Application, policy: CountyPolicy, actor, expected_step) -> str:
    """The step the decision is for: still the current one, and the actor's role's to take."""
    step = application.stage
    if expected_step is not None and expected_step != step:
        raise NotAllowed("该申请已由他人处理，已进入下一环节；请刷新后再看。")
    if policy.step(step) is None or step == "publicity" or application.returned:
        raise NotAllowed("该申请当前不在可审核的环节。")
    if actor is not None and not actor.is_superuser:
        profile = getattr(actor, "staff_profile", None)
        if profile is None or profile.role != policy.step(step)["role"]:
            raise NotAllowed("该环节不由您的岗位办理。")
    return step


@transaction.atomic
def decide(
    application_id: int,
    *,
    decision: str,
    opinion: str,
    actor,
    expected_step: str | None = None,
    concealed: bool = False,
) -> Application:
    """Pass, return for correction, or reject at the current step: the row is locked and the
    step compared with the one the reviewer saw, so a double click decides once."""
    application = Application.objects.select_for_update().get(pk=application_id)
    policy = policy_for(application.county)
    step = _check_actor(application, policy, actor, expected_step)
    if decision in ("return", "reject") and not opinion.strip():
        raise NotAllowed("退回或不予通过须写明理由。")
    if step == "data_check" and decision == "pass":
        check = application.checks.filter(performed_at__gt=_last_submitted(application)).first()
        if check is None:
            raise NotAllowed("请先进行大数据比对（提交或补正后须重新比对）。")
        if not check.passed:
            raise NotAllowed("比对结果有不符合项，不能通过；可退回补正或不予通过。")
    ReviewStep.objects.create(
        application=application,
        step=step,
        decision=decision,
        opinion=opinion.strip(),
        actor=actor,
        deadline=application.stage_deadline,
    )
    if decision == "pass":
        _enter(application, policy.next_step(step), policy)
    elif decision == "return":
        application.returned = True
        application.save()
        push_soon(application.pk)
    elif decision == "reject":
        application.stage = Application.Stage.REJECTED
        application.rejection_reasons = opinion.strip()
        application.decided_at = timezone.now()
        application.save()
        push_soon(application.pk)
        if concealed:
            _propose_false_application(application, opinion.strip(), actor)
    else:
        raise NotAllowed("未知的审核结论。")
    record_event(
        f"application.{decision}",
        f"{application.number} {policy.step(step)['label']}："
        f"{dict(ReviewStep.Decision.choices)[decision]}",
        actor=actor,
        household_id=application.pk,
        reason=opinion.strip(),
    )
    return application


def run_data_check(application_id: int, *, actor, source: DataSource | None = None) -> DataCheck:
    """联审: query every department, keep every answer as evidence, apply the county's rules.

    The departments are asked before the case is locked (their answers may take seconds);
    the results are written only if the case is still at this step. If a department cannot be
    reached nothing is recorded and the message says which: the check is run again later.
    """
    application = Application.objects.get(pk=application_id)
    policy = policy_for(application.county)
    _check_actor(application, policy, actor, "data_check")
    # Licences the service could not give at submission are asked again; never a blocker.
    licences.fetch_and_record(application.pk, source=licence_source_for(source))
    try:
        answers = query_all(application.id_number, source)
    except SourceUnavailable as exc:
        raise NotAllowed(f"数据查询未完成：{exc}") from exc
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application_id)
        _check_actor(application, policy, actor, "data_check")
        return _record_check(application, answers, actor)


def _record_check(application: Application, answers: dict, actor) -> DataCheck:
    Evidence.objects.bulk_create(
        Evidence(
            subject_type="application",
            subject_id=application.pk,
            department=a.department,
            source=a.source,
            fetched_at=a.fetched_at,
            payload=a.payload,
            payload_hash=a.payload_hash,
        )
        for a in answers.values()
    )
    # The household as 户籍 registers it, not as typed: added members cannot dilute income.
    members = max(len(answers["police"].payload.get("members") or []), 1)
    facts = rules.facts_from_answers(answers, members)
    county_rules = list(EligibilityRule.objects.filter(county=application.county))
    findings = rules.apply_rules(county_rules, facts, {d: a.source for d, a in answers.items()})
    findings.append(_credit_finding(application))
    check = DataCheck.objects.create(
        application=application,
        actor=actor,
        results=[f.as_dict() for f in findings],
        passed=all(f.passed for f in findings),
    )
    record_event(
        "application.data_check",
        f"{application.number} 大数据比对：{'全部符合' if check.passed else '有不符合项'}",
        actor=actor,
        household_id=application.pk,
        after={"passed": check.passed, "evidence": [a.payload_hash for a in answers.values()]},
    )
    return check


def _credit_finding(application: Application) -> rules.Finding:
    """The city-wide credit database beside the departments: records in effect that bar an
    application, for the applicant and every member."""
    ids = [application.id_number, *application.members.values_list("id_number", flat=True)]
    held = credit.holds([i for i in ids if i], Effect.APPLY, timezone.localdate())
    return rules.Finding(
        criterion="credit",
        label="在效失信记录（不得申请）" if not held else held[0].reason,
        operator="=",
        threshold=Decimal("0"),
        unit="条",
        found=Decimal(len(held)),
        source="信用管理",
        passed=not held,
    )


def _propose_false_application(application: Application, opinion: str, actor) -> None:
    """A rejection for concealment or false statements is reported to 信用管理 (认定 comes
    after the applicant is told and may object), in the same transaction as the decision."""
    proposal = credit_services.propose(
        subject=credit_services.person(application.name, application.id_number),
        conduct_code="false-application",
        county=application.county,
        source="review",
        source_ref=application.number,
        facts=f"申请 {application.number} 审核不予通过：{opinion}",
        actor=actor,
    )
    if application.applicant is not None:
        notify_applicant(
            application.applicant,
            "application.credit_proposed",
            url="/my/",
            county=application.county.name,
            conduct=proposal.conduct.name,
            level=proposal.conduct.get_level_display(),
            consequence=proposal.conduct.consequence,
            objection_until=proposal.objection_until,
        )


REVIEW_COLUMNS = [
    {"key": "key", "label": "公示编号", "kind": "text"},
    {"key": "name", "label": "申请人", "kind": "name"},
    {"key": "id_number", "label": "身份证号", "kind": "id_number"},
    {"key": "members", "label": "家庭人口", "kind": "number"},
    {"key": "community", "label": "社区", "kind": "region"},
    {"key": "priority", "label": "优先轮候", "kind": "text"},
]


@transaction.atomic
def start_publicity(county, *, actor) -> int:
    """Publish every application of the county waiting at 公示 as one masked review notice."""
    waiting = list(
        Application.objects.select_for_update()
        .filter(county=county, stage="publicity", review_outbox__isnull=True)
        .select_related("community")
        .order_by("number")
    )
    if not waiting:
        raise NotAllowed("没有待公示的申请。")
    policy = policy_for(county)
    rows = [
        {
            "_key": a.public_key,
            "key": a.public_key,
            "name": a.name,
            "id_number": a.id_number,
            "members": a.members.count() or 1,
            "community": a.community.name,
            # Which group (低保, disability …) is welfare and health data: only yes / no.
            "priority": "是" if a.priorities else "否",
        }
        for a in waiting
    ]
    outbox = enqueue_publication(
        kind=Kind.REVIEW_NOTICE,
        region=county,
        title=f"{county.name}公共租赁住房保障对象审核公示"
        f"（{timezone.localdate():%Y年%m月%d日}，{len(rows)} 户）",
        body=f"以下家庭经受理、初审、部门数据比对和复审，符合{county.name}公共租赁住房保障条件，现予公示。"
        f"公示期 {policy.publicity_working_days} 个工作日。对公示对象有异议的，可在公示期内提出。",
        columns=REVIEW_COLUMNS,
        rows=rows,
        period_working_days=policy.publicity_working_days,
        actor=actor,
    )
    for a in waiting:
        a.review_outbox = outbox
        a.save(update_fields=["review_outbox", "updated_at"])
        record_event(
            "application.publicity", f"{a.number} 进入公示", actor=actor, household_id=a.pk
        )
    return len(waiting)


def publication_of(application: Application) -> Publication | None:
    if application.review_outbox_id is None:
        return None
    return Publication.objects.filter(outbox_id=application.review_outbox_id).first()


def finish_publicity(now=None) -> dict[str, int]:
    """After the period: approve, or send back to 复审 when an objection was sustained."""
    now = now or timezone.now()
    done = {"approved": 0, "returned": 0}
    for application in Application.objects.filter(stage="publicity", review_outbox__isnull=False):
        publication = publication_of(application)
        if (
            publication is None
            or publication.period_ends_at is None
            or publication.period_ends_at > now
        ):
            continue
        with transaction.atomic():
            locked = Application.objects.select_for_update().get(pk=application.pk)
            if locked.stage != "publicity":
                continue
            sustained = Objection.objects.filter(
                publication__series=publication.series,
                item_key=locked.public_key,
                status="sustained",
            ).exists()
            open_ = Objection.objects.filter(
                publication__series=publication.series, item_key=locked.public_key, status="open"
            ).exists()
            if open_:
                continue  # the reviewer must decide the objection first
            if sustained:
                ReviewStep.objects.create(
                    application=locked,
                    step="publicity",
                    decision="return",
                    opinion="公示期内异议成立，退回复审",
                )
                locked.review_outbox = None
                _enter(locked, "second_review", policy_for(locked.county))
                done["returned"] += 1
                record_event(
                    "application.objection_sustained",
                    f"{locked.number} 公示异议成立，退回复审",
                    actor=None,
                    household_id=locked.pk,
                )
            else:
                ReviewStep.objects.create(application=locked, step="publicity", decision="approve")
                locked.stage = Application.Stage.APPROVED
                locked.decided_at = now
                locked.save()
                push_soon(locked.pk)
                done["approved"] += 1
                record_event(
                    "application.approved",
                    f"{locked.number} 公示期满无异议，审批通过",
                    actor=None,
                    household_id=locked.pk,
                )
                create_household(locked, at=min(now, timezone.now()))
    return done
