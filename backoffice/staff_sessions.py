"""Staff sessions end after an idle half hour and, at the latest, a working day after sign-in.

A back-office session opens personal data of many households, so a forgotten browser on a
shared desk must not stay signed in. Applicants' SMS sessions (no Django user) are untouched.
"""

import time

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import ObjectDoesNotExist
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse

SIGNED_IN_AT = "staff_signed_in_at"
SEEN_AT = "staff_seen_at"
# The idle expiry is pushed forward at most once a minute, not written on every request.
REFRESH_SECONDS = 60


@receiver(user_logged_in, dispatch_uid="backoffice.staff_sessions.stamp")
def stamp_sign_in(sender, request: HttpRequest | None, user, **kwargs) -> None:
    """The working day counts from the password, not from the latest click."""
    session = getattr(request, "session", None)
    if session is None or not is_staff_user(user):
        return
    now = int(time.time())
    session[SIGNED_IN_AT] = now
    session[SEEN_AT] = now
    session.set_expiry(settings.ANJU_STAFF_IDLE_MINUTES * 60)


def is_staff_user(user) -> bool:
    """Whoever can open either back door: superusers, admin users, staff with a profile."""
    if user.is_superuser or user.is_staff:
        return True
    try:
        return user.staff_profile is not None
    except ObjectDoesNotExist:
        return False


class StaffSessionMiddleware:
    """After AuthenticationMiddleware: slide a staff session's expiry, end it after the day."""

    def __init__(self, get_response) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if SESSION_KEY in request.session and user.is_authenticated and is_staff_user(user):
            session = request.session
            now = int(time.time())
            signed_in_at = session.get(SIGNED_IN_AT)
            if (
                not isinstance(signed_in_at, int)
                or now - signed_in_at > settings.ANJU_STAFF_SESSION_HOURS * 3600
            ):
                logout(request)  # the view now sees a visitor and sends them to sign in
            elif now - session.get(SEEN_AT, 0) >= REFRESH_SECONDS:
                session[SEEN_AT] = now
                session.set_expiry(settings.ANJU_STAFF_IDLE_MINUTES * 60)
        return self.get_response(request)
