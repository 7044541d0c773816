"""Resident sign-in through the provincial identity provider (统一身份认证): a redirect to
the provider and its callback; the page asked for before signing in is where one lands."""

import hmac
import logging
import time
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from housing import oidc, oidc_accounts, oidc_staff
from housing.views import SESSION_KEY, next_page

log = logging.getLogger(__name__)

PENDING_KEY = "oidc_pending"
MAX_PENDING = 5  # sign-ins started in other tabs stay valid
PENDING_SECONDS = 600
UNAVAILABLE = _("政务服务网统一身份认证平台暂时无法访问，请稍后再试，或使用下方的手机验证码登录。")


def _callback_uri(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("oidc-callback"))


def _back_to(login_page: str, after: str) -> HttpResponse:
    """The sign-in page the visitor came from, still knowing where they were going."""
    if after in (reverse("my-cases"), reverse("staff-home")):
        return redirect(login_page)
    return redirect(f"{login_page}?{urlencode({'next': after})}")


def _landing(request: HttpRequest) -> str:
    after = next_page(request)
    return reverse("my-cases") if after.startswith("/login/oidc/") else after


def _start(request: HttpRequest, purpose: str, after: str, login_page: str) -> HttpResponse:
    """Off to the provider, with state, nonce and the PKCE challenge; the rest waits here."""
    if not settings.ANJU_OIDC_ISSUER:
        raise Http404
    try:
        url, pending = oidc.start(_callback_uri(request))
    except oidc.ProviderUnavailable as exc:
        log.warning("identity provider unavailable: %s", exc)
        messages.error(request, UNAVAILABLE)
        return _back_to(login_page, after)
    pending |= {"next": after, "purpose": purpose}
    now = time.time()
    waiting = [
        p for p in request.session.get(PENDING_KEY, []) if p.get("at", 0) > now - PENDING_SECONDS
    ]
    request.session[PENDING_KEY] = [*waiting[-(MAX_PENDING - 1) :], pending]
    return HttpResponseRedirect(url)


@require_GET
def oidc_login(request: HttpRequest) -> HttpResponse:
    return _start(request, "resident", _landing(request), reverse("apply-login"))


@require_GET
def oidc_login_staff(request: HttpRequest) -> HttpResponse:
    """The same provider for staff: only an account an administrator linked opens."""
    return _start(request, "staff", oidc_staff.landing(request), reverse("staff-login"))


@require_GET
def oidc_callback(request: HttpRequest) -> HttpResponse:
    """The provider sends the resident back: only a request this session started, once."""
    if not settings.ANJU_OIDC_ISSUER:
        raise Http404
    state = request.GET.get("state", "")
    waiting = request.session.get(PENDING_KEY, [])
    pending = next(
        (p for p in waiting if hmac.compare_digest(p["state"].encode(), state.encode())), None
    )
    if pending is None or pending.get("at", 0) < time.time() - PENDING_SECONDS:
        if pending is None and SESSION_KEY in request.session:
            # Back to the provider after signing in, and through it again: already signed in.
            return redirect("my-cases")
        messages.error(request, _("登录请求已失效或不是从本站发起，请重新登录。"))
        if waiting and all(p.get("purpose") == "staff" for p in waiting):
            return _back_to(reverse("staff-login"), waiting[-1]["next"])
        return redirect("apply-login")
    request.session[PENDING_KEY] = [p for p in waiting if p is not pending]
    staff = pending.get("purpose") == "staff"
    try:
        vouched = oidc.finish(request.GET.dict(), pending, _callback_uri(request))
        if staff:
            oidc_staff.sign_in(request, vouched)
            return redirect(pending["next"])
        applicant, _identity = oidc_accounts.sign_in(vouched)
    except oidc.ProviderUnavailable as exc:
        log.warning("identity provider unavailable: %s", exc)
        messages.error(request, UNAVAILABLE)
    except oidc.SignInRefused as exc:
        log.info("identity provider sign-in refused: %r", exc.__cause__ or exc)
        messages.error(request, str(exc))
    else:
        request.session.flush()  # nothing of an earlier visitor on a shared computer
        request.session[SESSION_KEY] = applicant.pk
        return redirect(pending["next"])
    return _back_to(reverse("staff-login" if staff else "apply-login"), pending["next"])
