"""django-axes' database handler with one addition: a limit per client address across usernames.

Axes locks a username tried from one address (AXES_LOCKOUT_PARAMETERS), which stops guessing
one clerk's password without letting anyone lock that clerk out from elsewhere. Password
spraying (one address, a few passwords against many usernames) never trips that, so the same
failure records are also summed per address: ANJU_LOGIN_ADDRESS_FAILURE_LIMIT failures within
the cool-off lock the address out of every account, with the same page and the same cool-off.
"""

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from django.conf import settings
from django.db.models import Sum


class LoginProtectionHandler(AxesDatabaseHandler):
    def address_failures(self, request) -> int:
        """Failed sign-ins from the request's address, any username, within the cool-off."""
        address = getattr(request, "axes_ip_address", None)
        if not address:
            return 0
        total = AccessAttempt.objects.filter(
            ip_address=address, attempt_time__gte=get_cool_off_threshold(request)
        ).aggregate(n=Sum("failures_since_start"))["n"]
        return total or 0

    def address_locked(self, request) -> bool:
        return self.address_failures(request) >= settings.ANJU_LOGIN_ADDRESS_FAILURE_LIMIT

    def is_locked(self, request, credentials: dict | None = None) -> bool:
        return super().is_locked(request, credentials) or self.address_locked(request)

    def user_login_failed(self, sender, credentials: dict, request=None, **kwargs):
        super().user_login_failed(sender, credentials, request, **kwargs)
        if request is None or request.axes_locked_out or self.is_whitelisted(request, credentials):
            return
        if self.address_locked(request):
            request.axes_locked_out = True
            request.axes_credentials = credentials
            user_locked_out.send(
                "axes",
                request=request,
                username=get_client_username(request, credentials),
                ip_address=request.axes_ip_address,
            )
