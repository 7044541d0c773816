"""Public pages and API responses cached on the stock version: ETag/Last-Modified, 304s, and
rendered pages kept in Django's cache, so a page is built once per stock change, not once per
visitor.

Django's cache is files under .local/cache/ (settings.CACHES), shared by every worker: a page
rendered by one is a hit for all, and no worker holds the bodies in its memory.
The key is the stock version (geo.stock_version: it changes with every committed change to
estates, buildings, units, POIs or regions, so a change shows at once) plus everything else the
page varies on: language, host, full path with its query string, the text-size cookie. The
version is read before the page, so a cached page is never older than its key.

A cached page carries the CSRF token of the request that rendered it (the header's text-size
form); each hit gets its own token instead. Visitors with a session (signed in: applicants,
staff) bypass the cache and get `private` pages that no shared cache may keep.
"""

import hashlib
import re
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.http import http_date
from django.utils.translation import get_language

from geo import stock_version

PUBLIC_CACHE_CONTROL = "public, no-cache"  # kept by caches, revalidated each time (a 304)
PRIVATE_CACHE_CONTROL = "private, no-cache"
CACHE_SECONDS = 3600
VARY = ("Accept-Language", "Cookie")
_CSRF_INPUT = re.compile(rb'(name="csrfmiddlewaretoken" value=")([^"]*)(")')


def personal(request: HttpRequest) -> bool:
    """True when the page may show or depend on who is signed in."""
    return settings.SESSION_COOKIE_NAME in request.COOKIES


def database_key(key: str, key_prefix: str, version: int) -> str:
    """Django's cache keys (settings.CACHES KEY_FUNCTION) with the database in use, so that
    processes on other databases (tests, benchmarks) sharing a cache never read each other's."""
    return f"{key_prefix}:{version}:{connection.settings_dict['NAME']}:{key}"


def _key(request: HttpRequest, state: stock_version.StockState, scope: str) -> str:
    parts = [
        scope,
        str(state.version),
        state.changed_at.isoformat() if state.changed_at else "",
        get_language() or "",
        request.get_host(),
        request.get_full_path(),
        request.COOKIES.get("text_size", ""),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:32]


def _with_token(request: HttpRequest, body: bytes) -> bytes:
    """The body with this visitor's CSRF token in place of the one it was rendered with."""
    if b"csrfmiddlewaretoken" not in body:
        return body
    token = get_token(request).encode()
    return _CSRF_INPUT.sub(lambda m: m.group(1) + token + m.group(3), body)


def _headers(response: HttpResponse, etag: str, modified: float | None) -> HttpResponse:
    response["ETag"] = etag
    if modified is not None:
        response["Last-Modified"] = http_date(modified)
    response["Cache-Control"] = PUBLIC_CACHE_CONTROL
    patch_vary_headers(response, VARY)
    return response


def cached_public(request: HttpRequest, scope: str, build: Callable[[], HttpResponse]):
    """The response of `build()`, served as a public page keyed on the stock version."""
    if request.method not in ("GET", "HEAD"):
        return build()
    if personal(request):
        response = build()
        response["Cache-Control"] = PRIVATE_CACHE_CONTROL
        patch_vary_headers(response, VARY)
        return response
    state = stock_version.state()
    key = _key(request, state, scope)
    etag = f'"{key}"'
    modified = state.changed_at.timestamp() if state.changed_at else None
    not_modified = get_conditional_response(
        request, etag=etag, last_modified=int(modified) if modified else None
    )
    if not_modified is not None:
        return _headers(not_modified, etag, modified)
    cache_key = f"public-page:{key}"
    hit = cache.get(cache_key)
    if hit is not None:
        content_type, body = hit
        response = HttpResponse(_with_token(request, body), content_type=content_type)
        return _headers(response, etag, modified)
    response = render_now(build())
    if response.status_code == 200 and not response.streaming and not response.cookies:
        cache.set(cache_key, (response["Content-Type"], response.content), CACHE_SECONDS)
    if response.status_code == 200:
        _headers(response, etag, modified)
    return response


def render_now(response: HttpResponse) -> HttpResponse:
    """Template and DRF responses render lazily; the cache needs their bytes."""
    render = getattr(response, "render", None)
    return render() if callable(render) and not response.is_rendered else response


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorator: a public view's pages cached and revalidated on the stock version."""

    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        return cached_public(request, view.__name__, lambda: view(request, *args, **kwargs))

    return wrapped


@receiver(setting_changed)
def _settings_changed(**kwargs) -> None:
    """Pages depend on settings too (base maps, city name): tests that override them must not
    get a page cached under other settings."""
    cache.clear()
