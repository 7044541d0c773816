"""Which requests may read from the read replica (anju.db_router): anonymous GET and HEAD
requests of the public side, the bulk of a national portal's traffic. Signed-in visitors (a
session cookie: applicants, staff) and every write request read the primary; after a write
request a short-lived cookie keeps that browser on the primary until the replica has caught up,
so a visitor who just submitted something sees it on the next page.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from anju.db_router import public_reads, replica_configured
from layers.public_cache import personal

PIN_COOKIE = "anju_primary"
SAFE_METHODS = ("GET", "HEAD")


def reads_replica(request: HttpRequest) -> bool:
    """True for a request whose reads may lag the primary by a moment without harm."""
    return (
        request.method in SAFE_METHODS
        and not personal(request)
        and PIN_COOKIE not in request.COOKIES
    )


class ReplicaReadsMiddleware:
    """Marks public reads for the router; the mark ends with the response."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not replica_configured():
            return self.get_response(request)
        if reads_replica(request):
            with public_reads():
                return self.get_response(request)
        response = self.get_response(request)
        if request.method not in SAFE_METHODS:
            response.set_cookie(
                PIN_COOKIE,
                "1",
                max_age=settings.ANJU_REPLICA_PIN_SECONDS,
                secure=settings.SESSION_COOKIE_SECURE,
                httponly=True,
                samesite="Lax",
            )
        return response
