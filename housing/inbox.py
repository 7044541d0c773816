"""站内信: tell a resident something that stays on /my/messages/, with an SMS nudge.

Every later stage (contracts, rent, annual review, renewal, repairs, violations, exit, credit)
reaches the household through `notify_household` with a template code (the words are data a
city edits, housing/messages.py), so a message is never only an SMS that a
changed phone number loses. Messages and SMS go out only after the caller's transaction commits.
"""

import logging

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from housing import messages
from housing.models import Applicant, Household, InboxMessage
from housing.sms import send_sms

log = logging.getLogger(__name__)


def notify(
    applicant: Applicant | None,
    subject: str,
    body: str = "",
    *,
    url: str = "",
    phone: str = "",
    sms: str = "",
) -> InboxMessage | None:
    """Write a 站内信 to the account (if the household has one) and, after commit, send `sms`
    (or the subject) to `phone` (or the account's phone). A failed SMS is logged, not raised:
    the message itself is already kept."""
    message = None
    if applicant is not None:
        message = InboxMessage.objects.create(
            applicant=applicant, subject=subject[:100], body=body, url=url
        )
    to = phone or (applicant.phone if applicant is not None else "")
    if to:
        text = sms or f"【安居】{subject}" + ("，详情请登录“我的申请”查看。" if applicant else "")
        transaction.on_commit(lambda: _send(to, text[:300]))
    return message


def notify_household(
    household: Household, code: str, /, *, url: str = "", **values: object
) -> InboxMessage | None:
    """The message of template `code` (housing.messages) filled with `values`: the household's
    account gets it, its registered phone the SMS."""
    message = messages.render(code, **values)
    return notify(
        household.applicant,
        message.subject,
        message.body,
        url=url,
        phone=household.phone,
        sms=message.sms,
    )


def notify_applicant(
    applicant: Applicant, code: str, /, *, url: str = "", **values: object
) -> InboxMessage | None:
    """As notify_household, for an applicant who has no household yet."""
    message = messages.render(code, **values)
    return notify(applicant, message.subject, message.body, url=url, sms=message.sms)


def _send(phone: str, text: str) -> None:
    try:
        send_sms(phone, text)
    except Exception:
        log.exception("inbox SMS not sent")


def messages_of(applicant: Applicant) -> QuerySet[InboxMessage]:
    return InboxMessage.objects.filter(applicant=applicant)


def unread_count(applicant: Applicant) -> int:
    return InboxMessage.objects.filter(applicant=applicant, read_at__isnull=True).count()


def mark_read(applicant: Applicant) -> int:
    """Opening the list reads it: what was new is marked with the time it was first shown."""
    return InboxMessage.objects.filter(applicant=applicant, read_at__isnull=True).update(
        read_at=timezone.now()
    )
