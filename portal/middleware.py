"""Requests no view should see, answered before any view runs.

Control characters (a NUL above all: PostgreSQL cannot store it, so every search and filter
would fail with a 500) in the path, the query string or a form field are a 400; a request body
larger than any upload we take is a 413, refused before it is read or spooled to disk.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

# Paths and query strings carry no control characters at all (a tab in a pasted search aside);
# form fields may hold the tabs and line breaks of a textarea.
IN_URL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
IN_FORM = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

BAD_CHARACTERS = _("请求中含有不允许的控制字符（例如 %00），请检查输入的内容。")
TOO_LARGE = _("提交的内容过大（上限 %(mb)s MB），请缩小文件后重试。")


def _plain(request: HttpRequest, text, status: int, **values) -> HttpResponse:
    """In the reader's language: this runs before LocaleMiddleware has chosen it."""
    with translation.override(translation.get_language_from_request(request)):
        body = str(text) % values if values else str(text)
    return HttpResponse(body, status=status, content_type="text/plain; charset=utf-8")


def _has_control(pairs, pattern: re.Pattern) -> bool:
    return any(
        pattern.search(key) or any(pattern.search(v) for v in values) for key, values in pairs
    )


class RequestSanityMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        limit = settings.ANJU_REQUEST_MAX_BYTES
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > limit:
            return _plain(request, TOO_LARGE, 413, mb=limit // (1024 * 1024))
        if IN_URL.search(request.path) or _has_control(request.GET.lists(), IN_URL):
            return _plain(request, BAD_CHARACTERS, 400)
        if request.method == "POST" and (
            _has_control(request.POST.lists(), IN_FORM)
            or any(IN_URL.search(f.name or "") for f in request.FILES.values())
        ):
            return _plain(request, BAD_CHARACTERS, 400)
        return self.get_response(request)
