"""Changing the words sent to residents: one write per template, atomic, with the row locked,
recording `template.changed` with the texts that changed (from → to) and the reason given.

Only the city's account administrators (and superusers) change them: the templates are one
set for the whole city. The next message sent uses the new words.
"""

from dataclasses import replace

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from archive.services import record_event
from backoffice.models import StaffProfile
from geo.jurisdiction import profile_of
from housing import messages
from housing.models import MessageTemplate

FIELDS = ("subject", "body", "sms")


class NotAllowed(Exception):
    """The actor is no city account administrator, or the change lacks a reason."""


def may_edit(user: AbstractBaseUser) -> bool:
    """Superusers and the city's account administrators."""
    if not user.is_authenticated:
        return False
    if user.is_superuser:
        return True
    profile = profile_of(user)
    return bool(
        profile
        and profile.is_admin
        and profile.region_id
        and profile.role == StaffProfile.Role.CITY
    )


def _locked(code: str) -> MessageTemplate:
    """The row, created from the shipped default if a release added it since the last sync."""
    default = messages.shipped().get(code)
    row = MessageTemplate.objects.select_for_update().filter(code=code).first()
    if row is None:
        if default is None:
            raise MessageTemplate.DoesNotExist(code)
        row = MessageTemplate(
            code=code,
            name=default.name,
            purpose=default.purpose,
            channel=default.channel,
            placeholders=default.placeholders,
            required=list(default.required),
            one_segment=default.one_segment,
            **default.texts(),
        )
    return row


def _clean(row: MessageTemplate, texts: dict[str, str]) -> dict[str, str]:
    clean = {k: (texts.get(k) or "").replace("\r\n", "\n").strip() for k in FIELDS}
    if row.channel == MessageTemplate.Channel.SMS:
        clean["subject"] = clean["body"] = ""
    return clean


@transaction.atomic
def change_template(
    code: str, texts: dict[str, str], *, reason: str, actor: AbstractBaseUser, restore: bool = False
) -> tuple[dict, list[str]]:
    """Save new words (or, with restore, the shipped ones); returns ({field: (before, after)},
    warnings). Refuses (messages.TemplateError) a text naming a placeholder the code does not
    pass; an unchanged text records nothing."""
    if not may_edit(actor):
        raise NotAllowed("只有市级账号管理员可以修改消息模板。")
    if not reason.strip():
        raise NotAllowed("修改原因：请写明修改原因。")
    row = _locked(code)
    current = messages.from_row(row)
    if restore:
        texts = messages.shipped()[code].texts()
    wanted = _clean(row, texts)
    candidate = replace(current, **wanted)
    warnings = messages.check(candidate)
    changed = {k: (getattr(row, k), v) for k, v in wanted.items() if getattr(row, k) != v}
    if not changed and row.pk:
        return {}, warnings
    shipped = messages.shipped().get(code)
    for k, v in wanted.items():
        setattr(row, k, v)
    row.customised = shipped is None or wanted != _clean(row, shipped.texts())
    row.updated_by = actor
    row.updated_at = timezone.now()
    row.save()
    if changed:
        labels = "、".join(messages.FIELD_LABELS[k] for k in changed)
        record_event(
            "template.changed",
            f"{'恢复' if restore else '修改'}消息模板“{row.name}”（{code}）：{labels}",
            actor=actor,
            before={k: old for k, (old, _new) in changed.items()},
            after={"code": code, "restored": restore}
            | {k: new for k, (_old, new) in changed.items()},
            reason=reason.strip(),
        )
    return changed, warnings
