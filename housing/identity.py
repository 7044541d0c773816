"""Who applies: the name and ID number (and, where the platform registered one, the phone) are
checked against 公安 before an online case is submitted, so a stranger's ID cannot block its
owner; when the owner is blocked anyway, a claim goes to the county instead of a dead end."""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from archive.services import record_event
from exchange.sources import Answer, DataSource, SourceUnavailable
from housing.errors import NotAllowed
from housing.messages import sms_text
from housing.models import Applicant, Application, IdentityClaim
from housing.sms import send_sms


class IdentityProblem(NotAllowed):
    """The identity does not check out; the message names the field and how to fix it, and
    `field` says which form field, so the page can show it there."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


class IdentityBlocked(IdentityProblem):
    """Name and ID are right, yet something outside the resident's hands blocks them: the
    page offers a claim (本人认领) to the county."""

    def __init__(self, message: str, reason: str, other: Application | None = None):
        super().__init__(message)
        self.reason, self.other = reason, other


def masked(id_number: str) -> str:
    return f"{id_number[:6]}********{id_number[-4:]}"


def check_name(police: dict, name: str, id_number: str) -> None:
    """The record must exist and carry the typed name; its name is never shown back."""
    if not police:
        raise IdentityProblem(
            gettext(
                "公安户籍中没有身份证号 %(id_number)s 的记录：请核对“身份证号”"
                "（18 位，末位可能是 X）。"
            )
            % {"id_number": masked(id_number)},
            field="id_number",
        )
    registered = (police.get("name") or "").strip()
    if registered and registered != name.strip():
        raise IdentityProblem(
            gettext(
                "“姓名”与该身份证号在公安户籍登记的姓名不一致：请按身份证上的姓名填写"
                "（不要加空格或称谓，生僻字请用身份证上的写法）。"
            ),
            field="name",
        )


def open_case_elsewhere(id_number: str, applicant: Applicant | None) -> Application | None:
    """A case under this ID number in progress from another account (or the counter)."""
    return (
        Application.objects.filter(id_number=id_number)
        .exclude(stage__in=[Application.Stage.DRAFT, Application.Stage.REJECTED])
        .exclude(applicant=applicant)
        .first()
    )


def _vouched(applicant: Applicant, id_number: str) -> bool:
    return IdentityClaim.objects.filter(
        claimant=applicant, id_number=id_number, status=IdentityClaim.Status.ACCEPTED
    ).exists()


class IdentityUnavailable(NotAllowed):
    """公安 could not be asked just now: nothing is submitted, the page keeps a draft."""


def verify(application: Application, applicant: Applicant, source: DataSource) -> Answer:
    """Raise IdentityProblem, IdentityBlocked or IdentityUnavailable, or return 公安's answer
    as the proof."""
    try:
        police = source.fetch("police", application.id_number)
    except SourceUnavailable as exc:
        raise IdentityUnavailable(
            gettext(
                "暂时无法向公安户籍核验身份（%(error)s）。申请尚未提交，已填写的内容已保存为草稿，"
                "请稍后再点“提交申请”。"
            )
            % {"error": exc}
        ) from exc
    check_name(police.payload, application.name, application.id_number)
    phones = police.payload.get("phones") or []
    if phones and applicant.phone not in phones and not _vouched(applicant, application.id_number):
        raise IdentityBlocked(
            gettext(
                "您登录的手机号不是该身份证号在部门登记的手机号。请用本人登记的手机号登录后申请；"
                "如手机号已更换，可提交“本人认领”，由县（区）住房保障部门核实。"
            ),
            IdentityClaim.Reason.PHONE,
        )
    other = open_case_elsewhere(application.id_number, applicant)
    if other is not None:
        raise IdentityBlocked(
            gettext(
                "该身份证号已有其他手机号提交的申请正在办理。如果不是您本人提交的，"
                "请提交“本人认领”，县（区）住房保障部门核实后将撤销冒用的申请。"
            ),
            IdentityClaim.Reason.CLASH,
            other,
        )
    return police


def file_claim(
    application: Application, applicant: Applicant, blocked: IdentityBlocked, statement: str
) -> IdentityClaim:
    """One pending claim per person and ID number; a second request returns the first."""
    with transaction.atomic():
        claim = IdentityClaim.objects.filter(
            claimant=applicant,
            id_number=application.id_number,
            status=IdentityClaim.Status.PENDING,
        ).first()
        if claim is not None:
            return claim
        claim = IdentityClaim.objects.create(
            claimant=applicant,
            application=application,
            other=blocked.other,
            id_number=application.id_number,
            reason=blocked.reason,
            statement=statement.strip()[:500],
        )
        record_event(
            "identity.claimed",
            f"本人认领：{claim.get_reason_display()}（身份证 {masked(claim.id_number)}）",
            actor=None,
            household_id=application.pk,
            after={"claim": claim.pk, "other": blocked.other.pk if blocked.other else None},
        )
    return claim


def decide_claim(claim_id: int, *, accept: bool, opinion: str, actor) -> IdentityClaim:
    """The county's finding after seeing the person: a claim that holds withdraws the case that
    used the ID from another phone (or vouches for the new phone); both sides are told."""
    if not opinion.strip():
        raise NotAllowed("请写明核实情况（如：本人持身份证到窗口核验）。")
    with transaction.atomic():
        claim = IdentityClaim.objects.select_for_update().get(pk=claim_id)
        if claim.status != IdentityClaim.Status.PENDING:
            raise NotAllowed("该认领已处理。")
        claim.status = IdentityClaim.Status.ACCEPTED if accept else IdentityClaim.Status.REFUSED
        claim.opinion, claim.decided_by, claim.decided_at = opinion.strip(), actor, timezone.now()
        claim.save()
        other = claim.other
        if accept and other is not None:
            other = Application.objects.select_for_update().get(pk=other.pk)
            if other.stage == Application.Stage.APPROVED:
                raise NotAllowed(
                    "占用该身份证号的申请已审批通过并纳入保障，须先按退出程序取消其保障资格。"
                )
            if other.stage not in (Application.Stage.DRAFT, Application.Stage.REJECTED):
                other.stage = Application.Stage.REJECTED
                other.returned = False
                other.decided_at = timezone.now()
                other.rejection_reasons = "经核实，申请人身份被冒用（本人认领成立），申请撤销。"
                other.save()
                record_event(
                    "application.withdrawn_by_claim",
                    f"{other.number} 因本人认领成立撤销",
                    actor=actor,
                    household_id=other.pk,
                    after={"claim": claim.pk},
                )
                if other.applicant_id:
                    transaction.on_commit(
                        lambda phone=other.applicant.phone, number=other.number: send_sms(
                            phone, sms_text("identity.application_withdrawn", number=number)
                        )
                    )
        record_event(
            "identity.decided",
            f"本人认领{claim.get_status_display()}：{claim.opinion}",
            actor=actor,
            household_id=claim.application_id,
            after={"claim": claim.pk, "status": claim.status},
        )
        text = sms_text(
            "identity.claim_upheld" if accept else "identity.claim_rejected",
            opinion=claim.opinion,
        )
        transaction.on_commit(lambda: send_sms(claim.claimant.phone, text))
    return claim
