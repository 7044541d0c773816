"""Requests no view should see, answered before any view runs.

Control characters (a NUL above all: PostgreSQL cannot store it, so every search and filter
would fail with a 500) in the path, the query string or a form field are a 400; a request body
larger than any upload we take is a 413, refused before it is read or spooled to disk.
"""

import re
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# Paths and query strings carry no control characters at all (a tab in a pasted search aside);
# form fields may hold the tabs and line breaks of a textarea.
IN_URL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
IN_FORM = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")

BAD_CHARACTERS = "请求中含有不允许的控制字符（例如 %00），请检查输入的内容。"
TOO_LARGE = "提交的内容过大（上限 {mb} MB），请缩小文件后重试。"


def _plain(text: str, status: int) -> HttpResponse:
    return HttpResponse(text, status=status, content_type="text/plain; charset=utf-8")


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
            return _plain(TOO_LARGE.format(mb=limit // (1024 * 1024)), 413)
        if IN_URL.search(request.path) or _has_control(request.GET.lists(), IN_URL):
            return _plain(BAD_CHARACTERS, 400)
        if request.method == "POST" and (
            _has_control(request.POST.lists(), IN_FORM)
            or any(IN_URL.search(f.name or "") for f in request.FILES.values())
        ):
            return _plain(BAD_CHARACTERS, 400)
        return self.get_response(request)
