"""The writes of account administration: each one atomic, checked against what the acting
administrator may grant, and recorded as an archive event (never with a password in it)."""

import secrets
from dataclasses import dataclass

from axes.utils import reset as axes_reset
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from archive.services import record_event
from backoffice.models import StaffProfile
from backoffice.system import scope
from geo.models import Operator, Region

# No 0/O, 1/l/I: the password is read off a screen and typed in once.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
PASSWORD_LENGTH = 14


class NotAllowed(Exception):
    """An administrator asked for something outside their area or above their level."""


@dataclass
class Grant:
    """What an account is given: a role and where it works, and whether it administers."""

    role: str
    region: Region | None
    operator: Operator | None
    is_admin: bool


def one_time_password() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(PASSWORD_LENGTH))


def snapshot(profile: StaffProfile) -> dict:
    """The account as the archive records it (no password, no hash)."""
    user = profile.user
    return {
        "username": user.username,
        "name": user.first_name,
        "role": profile.role,
        "region": profile.region.name if profile.region_id else None,
        "region_id": profile.region_id,
        "operator": profile.operator.name if profile.operator_id else None,
        "operator_id": profile.operator_id,
        "is_admin": profile.is_admin,
        "is_active": user.is_active,
    }


def check_grant(actor: AbstractBaseUser, grant: Grant) -> None:
    """Refuse a role above the actor's own, a place outside their area, or 账号管理员 where
    the actor may not give it."""
    if not scope.is_admin(actor):
        raise NotAllowed("您不是账号管理员。")
    if grant.role not in dict(scope.grantable_roles(actor)):
        raise NotAllowed("不能授予高于本人层级的角色。")
    if grant.role == StaffProfile.Role.OPERATOR:
        if grant.operator is None or grant.region is not None:
            raise NotAllowed("运营单位账号须选择运营单位，不选区域。")
        if not scope.operators_in_area(actor).filter(pk=grant.operator.pk).exists():
            raise NotAllowed("该运营单位不在您的管辖范围内。")
        if grant.is_admin:
            raise NotAllowed("运营单位账号不能设为账号管理员。")
        return
    if grant.region is None or grant.operator is not None:
        raise NotAllowed("该角色须选择所辖区域，不选运营单位。")
    if grant.region.level != StaffProfile.LEVEL_OF_ROLE[grant.role]:
        raise NotAllowed("所辖区域的层级与角色不符。")
    if not scope.grantable_regions(actor).filter(pk=grant.region.pk).exists():
        raise NotAllowed("该区域不在您的管辖范围内。")


def _managed(actor: AbstractBaseUser, user_id: int) -> StaffProfile:
    """The account, locked, if the actor may change it; never the actor's own."""
    if not scope.is_admin(actor):
        raise NotAllowed("您不是账号管理员。")
    profile = (
        StaffProfile.objects.select_for_update(of=("self", "user"))
        .select_related("user", "region", "operator")
        .filter(scope.account_scope(actor))
        .filter(user_id=user_id)
        .first()
    )
    if profile is None:
        raise NotAllowed("该账号不在您的管辖范围内。")
    if profile.user_id == actor.pk:
        raise NotAllowed("不能修改自己的账号。")
    return profile


@transaction.atomic
def create_account(
    *, username: str, name: str, grant: Grant, actor: AbstractBaseUser
) -> tuple[AbstractBaseUser, str]:
    """A new staff account with a one-time password, returned once to show to the administrator."""
    check_grant(actor, grant)
    users = get_user_model()
    if users.objects.filter(username__iexact=username).exists():
        raise NotAllowed("该用户名已被使用。")
    password = one_time_password()
    user = users.objects.create_user(username, password=password, first_name=name)
    profile = StaffProfile.objects.create(
        user=user,
        role=grant.role,
        region=grant.region,
        operator=grant.operator,
        is_admin=grant.is_admin,
    )
    record_event(
        "staff.created",
        f"新建工作人员账号 {username}（{profile.get_role_display()}）",
        actor=actor,
        after=snapshot(profile),
    )
    return user, password


@transaction.atomic
def change_account(
    user_id: int, *, name: str, grant: Grant, actor: AbstractBaseUser
) -> StaffProfile:
    """Change name, role, area or 账号管理员: the actor must be able to grant the new state."""
    profile = _managed(actor, user_id)
    check_grant(actor, grant)
    before = snapshot(profile)
    profile.user.first_name = name
    profile.user.save(update_fields=["first_name"])
    profile.role, profile.region, profile.operator = grant.role, grant.region, grant.operator
    profile.is_admin = grant.is_admin
    profile.save()
    after = snapshot(profile)
    changed = [key for key in after if after[key] != before[key]]
    if changed:
        record_event(
            "staff.changed",
            f"修改工作人员账号 {profile.user.username}",
            actor=actor,
            before={k: before[k] for k in changed},
            after={k: after[k] for k in changed},
        )
    return profile


@transaction.atomic
def set_active(user_id: int, active: bool, *, actor: AbstractBaseUser) -> StaffProfile:
    """Disable or enable: a disabled user cannot sign in, and their open sessions stop
    working at the next request (Django's backend refuses inactive users)."""
    profile = _managed(actor, user_id)
    user = profile.user
    if user.is_active == active:
        return profile
    user.is_active = active
    user.save(update_fields=["is_active"])
    record_event(
        "staff.enabled" if active else "staff.disabled",
        f"{'启用' if active else '停用'}工作人员账号 {user.username}",
        actor=actor,
        before={"username": user.username, "is_active": not active},
        after={"username": user.username, "is_active": active},
    )
    return profile


@transaction.atomic
def reset_password(user_id: int, *, actor: AbstractBaseUser) -> str:
    """A new one-time password; the old one stops working and so do sessions signed in with
    it (the session hash follows the password)."""
    profile = _managed(actor, user_id)
    password = one_time_password()
    profile.user.set_password(password)
    profile.user.save(update_fields=["password"])
    record_event(
        "staff.password_reset",
        f"重置工作人员账号 {profile.user.username} 的密码",
        actor=actor,
        after={"username": profile.user.username},
    )
    return password


@transaction.atomic
def unlock(user_id: int, *, actor: AbstractBaseUser) -> int:
    """Clear django-axes' failed attempts for the username (every address): the lock lifts."""
    profile = _managed(actor, user_id)
    cleared = axes_reset(username=profile.user.username)
    record_event(
        "staff.unlocked",
        f"解除工作人员账号 {profile.user.username} 的登录锁定",
        actor=actor,
        after={"username": profile.user.username, "attempts_cleared": cleared},
    )
    return cleared
