"""Changing the city's credit catalogue (credit.Conduct): city account administrators edit a
conduct's name, level, period, measures and explanation, add one, or switch one off; each
change is an archive event with exactly the fields changed. A record already decided keeps
the level, measures and period it was decided with (credit.services.confirm copies them); the
next decision uses the catalogue as it is then.

A conduct that has been used is never deleted, only switched off; the conducts the system
proposes by itself cannot be switched off (the proposal would fail).
"""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from archive.services import record_event
from backoffice.system.calendar_services import is_city_admin
from credit.models import Conduct, Proposal
from tenancy.models import ViolationKind
from tenancy.services.exits import OVERDUE_CONDUCT

EDITABLE = ["name", "level", "effect_months", "effects", "consequence", "active"]
# Conducts the system proposes itself: allocation.services.offers (refusals), housing.services
# (false application), tenancy.services.exits (overdue move-out); violation kinds add theirs.
SYSTEM_CODES = {"refuse-allocation", "false-application", OVERDUE_CONDUCT}


class NotAllowed(Exception):
    """Not a city account administrator, or a change the catalogue cannot take; says why."""


def _check(actor: AbstractBaseUser, reason: str) -> str:
    if not is_city_admin(actor):
        raise NotAllowed("只有市级账号管理员可以修改失信行为目录。")
    if not (reason or "").strip():
        raise NotAllowed("修改原因：请写明修改原因。")
    return reason.strip()


def system_codes() -> set[str]:
    """Codes that proposals are made under without anyone choosing them."""
    kinds = ViolationKind.objects.exclude(credit_conduct="").values_list(
        "credit_conduct", flat=True
    )
    return SYSTEM_CODES | set(kinds)


def values_of(conduct: Conduct) -> dict:
    return {name: getattr(conduct, name) for name in EDITABLE}


@transaction.atomic
def change_conduct(conduct_id: int, values: dict, *, reason: str, actor) -> dict:
    """Save the editable fields; returns {field: (before, after)} (empty: nothing recorded)."""
    reason = _check(actor, reason)
    conduct = Conduct.objects.select_for_update().get(pk=conduct_id)
    before = values_of(conduct)
    if before["active"] and not values["active"] and conduct.code in system_codes():
        raise NotAllowed(
            f"启用：“{conduct.name}”由系统自动提出认定，不能停用；可修改等级、期限和惩戒措施。"
        )
    for name in EDITABLE:
        setattr(conduct, name, values[name])
    conduct.save(update_fields=EDITABLE)
    after = values_of(conduct)
    changed = {k: (before[k], after[k]) for k in EDITABLE if before[k] != after[k]}
    if changed:
        record_event(
            "credit.conduct_changed",
            f"失信行为目录：{conduct.name}（{conduct.code}）修改 {len(changed)} 项",
            actor=actor,
            before={k: old for k, (old, _new) in changed.items()},
            after={"conduct_id": conduct.pk, "code": conduct.code}
            | {k: new for k, (_old, new) in changed.items()},
            reason=reason,
        )
    return changed


@transaction.atomic
def add_conduct(values: dict, *, reason: str, actor) -> Conduct:
    """A new kind of conduct (its code is permanent: records and proposals refer to it)."""
    reason = _check(actor, reason)
    if Conduct.objects.filter(code=values["code"]).exists():
        raise NotAllowed(f"代码：“{values['code']}”已被使用，请换一个。")
    conduct = Conduct.objects.create(**values)
    record_event(
        "credit.conduct_added",
        f"失信行为目录：新增 {conduct.name}（{conduct.code}）",
        actor=actor,
        after={"conduct_id": conduct.pk, **values},
        reason=reason,
    )
    return conduct


@transaction.atomic
def delete_conduct(conduct_id: int, *, reason: str, actor) -> Conduct:
    """Only a conduct never proposed goes (a mistaken addition); any other is switched off."""
    reason = _check(actor, reason)
    conduct = Conduct.objects.select_for_update().get(pk=conduct_id)
    if Proposal.objects.filter(conduct=conduct).exists() or conduct.code in system_codes():
        raise NotAllowed(f"“{conduct.name}”已有认定记录或由系统使用，不能删除，可改为停用。")
    before = {"conduct_id": conduct.pk, "code": conduct.code} | values_of(conduct)
    conduct.delete()
    record_event(
        "credit.conduct_deleted",
        f"失信行为目录：删除 {before['name']}（{before['code']}）",
        actor=actor,
        before=before,
        reason=reason,
    )
    return conduct
