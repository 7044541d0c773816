"""Public tiles served in front of Django's full request cycle (portal/wsgi.py).

A rendered tile's own statement takes about a millisecond at z14, and Django's request cycle
(sessions, locale, CSRF, auth, messages, URL resolving, a health-check query per request) took
half as much again. A plain GET of /tiles/<layer>/<z>/<x>/<y>.pbf without a query string, on
an allowed host and (when HTTPS is required) over HTTPS, goes straight to the same tile view
with the headers that middleware adds to a tile (security headers, CSP, frame options); every
other request, a bad tile address among them, and any request the short path fails on, goes
through Django as before, so errors look and are logged the same.
"""

import re
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager, nullcontext

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.core.handlers.wsgi import WSGIRequest
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

from layers.registry import LAYERS
from layers.tiles import valid_tile
from layers.views import MVT, tile

PATH = re.compile(r"/tiles/([a-z0-9-]+)/(\d{1,2})/(\d{1,8})/(\d{1,8})\.pbf")
# The middleware whose work shows in a tile response; the rest (sessions, locale, CSRF, auth,
# messages, staff sessions, login protection, static files) has nothing to do for a tile.
HEADER_MIDDLEWARE = (
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
)

WSGIApp = Callable[[dict, Callable], Iterable[bytes]]


class TileDispatcher:
    """WSGI application: public tiles on the short path, everything else to `django`."""

    def __init__(
        self,
        django: WSGIApp,
        reads: Callable[[HttpRequest], AbstractContextManager] = lambda _request: nullcontext(),
    ) -> None:
        """`reads(request)` frames the tile's reads (the project passes the replica choice the
        routing middleware makes for every other request)."""
        self.django = django
        self.reads = reads
        self.headers: dict[bool, list[tuple[str, str]]] = {}  # per scheme (HSTS on HTTPS)

    def __call__(self, environ: dict, start_response: Callable) -> Iterable[bytes]:
        found = PATH.fullmatch(environ.get("PATH_INFO", ""))
        if found is None or environ.get("REQUEST_METHOD") != "GET" or environ.get("QUERY_STRING"):
            return self.django(environ, start_response)
        layer, z, x, y = found[1], int(found[2]), int(found[3]), int(found[4])
        spec = LAYERS.get(layer)
        if spec is None or not valid_tile(z, x, y) or not spec.min_zoom <= z <= spec.max_zoom:
            return self.django(environ, start_response)  # the 404 Django gives
        request = WSGIRequest(environ)
        try:
            request.get_host()  # ALLOWED_HOSTS, as CommonMiddleware checks it
        except DisallowedHost:
            return self.django(environ, start_response)
        if settings.SECURE_SSL_REDIRECT and not request.is_secure():
            return self.django(environ, start_response)  # redirected to HTTPS there
        try:
            with self.reads(request):
                response = tile(request, layer, z, x, y)
            extra = self._middleware_headers(request)
        except Exception:  # a lost connection, say: Django serves it again and logs it
            return self.django(environ, start_response)
        finally:
            _end_of_request()
        body = response.content
        headers = list(response.items())
        headers += [(name, value) for name, value in extra if name not in response]
        if "Content-Length" not in response:
            headers.append(("Content-Length", str(len(body))))
        start_response(f"{response.status_code} {response.reason_phrase}", headers)
        return [body]

    def _middleware_headers(self, request: HttpRequest) -> list[tuple[str, str]]:
        """The headers the configured header middleware adds to a tile response. They depend
        on the settings and the scheme alone, so they are found once per scheme, by running
        that middleware, in its configured order, over a tile response."""
        secure = request.is_secure()
        if secure not in self.headers:
            sample = HttpResponse(b"", content_type=MVT)
            handler = lambda _request: sample  # noqa: E731
            for path in reversed(settings.MIDDLEWARE):
                if path in HEADER_MIDDLEWARE:
                    handler = import_string(path)(handler)
            before = set(sample.headers)
            response = handler(request)
            self.headers[secure] = [(k, v) for k, v in response.items() if k not in before]
        return self.headers[secure]


def _end_of_request() -> None:
    """Django's end-of-request connection care (close it when broken or past CONN_MAX_AGE),
    without the health-check query it would then send before the next request's first one:
    a tile request that finds the connection lost is served again by Django, which
    reconnects. A transaction left open (a test's) is its owner's to end."""
    for connection in connections.all(initialized_only=True):  # the replica's too
        if connection.in_atomic_block:
            continue
        connection.close_if_unusable_or_obsolete()
        if connection.connection is not None:
            connection.health_check_done = True
