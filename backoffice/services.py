"""Sign-in bookkeeping: repeated failures lock an account for a while."""

from datetime import timedelta

from django.utils import timezone

from backoffice.models import LoginAttempt

MAX_FAILURES = 5
LOCK_MINUTES = 15


def is_locked(username: str) -> bool:
    """Locked after MAX_FAILURES failures within LOCK_MINUTES with no success since."""
    since = timezone.now() - timedelta(minutes=LOCK_MINUTES)
    recent = LoginAttempt.objects.filter(username__iexact=username, at__gte=since)
    last_success = recent.filter(success=True).order_by("-at").values_list("at", flat=True).first()
    failures = recent.filter(success=False)
    if last_success:
        failures = failures.filter(at__gt=last_success)
    return failures.count() >= MAX_FAILURES


def record_login(username: str, *, ip: str | None, success: bool) -> None:
    LoginAttempt.objects.create(username=username[:150], ip=ip, success=success)
