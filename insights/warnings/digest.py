"""The daily digest: one 站内信 per staff member with live warnings in their jurisdiction,
counting them per rule, with a link to the centre; by e-mail too when the member has an
address and the site's mail is configured. There is no staff phone number, so no SMS."""

import logging
from datetime import datetime

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from insights.models import StaffMessage, Warning
from insights.warnings.rules import rule_names

log = logging.getLogger(__name__)
KIND = "warning-digest"


def mail_configured() -> bool:
    """Only when the settings name a mail server or backend (the default points at nothing)."""
    return settings.is_overridden("EMAIL_HOST") or settings.is_overridden("EMAIL_BACKEND")


def send_digest(now: datetime | None = None) -> int:
    """One message per staff member, once a day; returns how many were written."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    names = rule_names()
    sent_today = set(
        StaffMessage.objects.filter(kind=KIND, created_at__date=today).values_list(
            "recipient_id", flat=True
        )
    )
    staff = (
        get_user_model()
        .objects.filter(is_active=True, staff_profile__isnull=False)
        .exclude(pk__in=sent_today)
        .select_related("staff_profile__region")
        .order_by("pk")
    )
    url = reverse("warnings")
    written = 0
    for user in staff.iterator(chunk_size=200):
        counts = list(
            Warning.objects.live()
            .visible_to(user)
            .values("rule")
            .annotate(n=Count("pk"), new=Count("pk", filter=Q(status=Warning.Status.OPEN)))
            .order_by("rule")
        )
        if not counts:
            continue
        total = sum(row["n"] for row in counts)
        lines = [
            _("%(rule)s：%(n)s 条（待确认 %(new)s 条）")
            % {"rule": names.get(row["rule"], row["rule"]), "n": row["n"], "new": row["new"]}
            for row in counts
        ]
        subject = _("%(day)s 预警日报：未解除的预警 %(n)s 条") % {"day": today, "n": total}
        body = "\n".join(lines)
        with transaction.atomic():
            StaffMessage.objects.create(
                recipient=user, kind=KIND, subject=subject, body=body, url=url, created_at=now
            )
            if user.email and mail_configured():
                transaction.on_commit(lambda u=user, s=subject, b=body: _mail(u, s, b, url))
        written += 1
    return written


def _mail(user, subject: str, body: str, url: str) -> None:
    try:
        send_mail(subject, f"{body}\n\n{url}", None, [user.email])
    except Exception:  # a mail server down must not stop the 站内信
        log.exception("warning digest e-mail not sent to user %s", user.pk)
