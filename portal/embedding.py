"""Resident pages inside a mobile app's WebView (皖事通 H5): the host app draws its own title
bar, so our header, menu and footer step aside; the web app manifest names and draws the app.

`?embed=1` hides the chrome for the rest of the visit (kept in the session, so links, forms and
the sign-in round trip keep it), `?embed=0` brings it back; `ANJU_EMBEDDED` hides it always.
The flag lives in the session on purpose: a visitor with a session gets private pages, never
a shared cached page rendered for the other mode (layers/public_cache.py).
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.templatetags.static import static
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

SESSION_KEY = "embedded"
THEME_COLOUR = "#1f3b57"  # the site header's colour (static/portal/site.css .site-header)
PARAMETER = "embed"


class EmbeddingMiddleware:
    """Sets `request.embedded`; after SessionMiddleware, so the session holds the choice.
    Signing in flushes the session (a shared computer): the choice is put back afterwards."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if settings.ANJU_EMBEDDED:
            request.embedded = True
            return self.get_response(request)
        asked = request.GET.get(PARAMETER)
        if asked is None and settings.SESSION_COOKIE_NAME not in request.COOKIES:
            request.embedded = False  # no session read: tiles and public pages stay shareable
            return self.get_response(request)
        if asked == "1":
            request.session[SESSION_KEY] = True
        elif asked == "0" and SESSION_KEY in request.session:
            del request.session[SESSION_KEY]
        request.embedded = bool(request.session.get(SESSION_KEY))
        response = self.get_response(request)
        if request.embedded and not request.session.get(SESSION_KEY):
            request.session[SESSION_KEY] = True  # flushed by a sign-in or sign-out: kept
        return response


def embedding(request: HttpRequest) -> dict:
    """Template context: whether the site's own header and footer are left out, and whether
    the provincial platform's sign-in (统一身份认证) is offered at the sign-in pages."""
    return {
        "embedded": getattr(request, "embedded", settings.ANJU_EMBEDDED),
        "theme_colour": THEME_COLOUR,
        "oidc_sign_in": bool(settings.ANJU_OIDC_ISSUER),
    }


@require_GET
def manifest(request: HttpRequest) -> JsonResponse:
    """The web app manifest: name, colours and icons a phone uses when the site is added to
    the home screen or opened by a host app."""
    icons = [
        {
            "src": static(f"portal/icons/icon-{size}.png"),
            "sizes": f"{size}x{size}",
            "type": "image/png",
            "purpose": "any",
        }
        for size in (192, 512)
    ]
    icons += [
        {
            "src": static("portal/icons/icon-512.png"),
            "sizes": "512x512",
            "type": "image/png",
            "purpose": "maskable",  # full-bleed, the house inside the safe zone
        },
        {
            "src": static("portal/icons/icon.svg"),
            "sizes": "any",
            "type": "image/svg+xml",
            "purpose": "any",
        },
    ]
    language = get_language() or settings.LANGUAGE_CODE
    body = {
        "id": "/",
        "name": _("安居·公租房"),
        "short_name": _("安居"),
        "description": _("%(city)s公租房信息公开、网上申请与进度查询")
        % {"city": settings.ANJU_CITY_NAME},
        "lang": "zh-Hans" if language == "zh-hans" else language,
        "start_url": "/",
        "scope": "/",
        "display": "standalone",
        "theme_color": THEME_COLOUR,
        "background_color": "#ffffff",
        "icons": icons,
    }
    return JsonResponse(
        body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False}
    )
