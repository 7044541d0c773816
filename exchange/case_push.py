"""办件状态推送: the client that tells the platform's case API where a case stands, signed as the
department sources sign (exchange.signing). The platform records each idempotency key once, so
a push sent twice (a worker killed after sending) is recorded once.

POST /api/cases  {"key", "case_number", "item", "id_number", "step", "step_name", "result",
"occurred_at"}  →  200 {"recorded": true} or 200 {"recorded": false, "duplicate": true}.
"""

import http.client
import json
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass

from django.conf import settings

from exchange.signing import sign

PATH = "/api/cases"
ITEM = "公共租赁住房保障申请"


class PushFailed(Exception):
    """The push was not recorded; `unavailable` says the platform could not be reached at all
    (so trying other cases now is pointless), otherwise it refused this push."""

    def __init__(self, message: str, *, unavailable: bool):
        super().__init__(message)
        self.unavailable = unavailable


@dataclass(frozen=True)
class CaseStep:
    """One step of one case as the platform's personal centre shows it."""

    key: str
    case_number: str
    id_number: str
    step: str
    step_name: str
    result: str
    occurred_at: str
    item: str = ITEM


class CasePushClient:
    def __init__(self, base_url: str, app_id: str, secret: str, timeout: float = 5.0):
        self.base_url, self.app_id, self.secret = base_url.rstrip("/"), app_id, secret
        self.timeout = timeout

    def send(self, step: CaseStep) -> bool:
        """Deliver one step; True when the platform had recorded this key before."""
        body = json.dumps(asdict(step), ensure_ascii=False, separators=(",", ":")).encode()
        headers = sign(self.app_id, self.secret, "POST", PATH, body)
        headers["Content-Type"] = "application/json"
        request = urllib.request.Request(
            self.base_url + PATH, data=body, headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                answer = json.loads(response.read().decode("utf-8"))
        except urllib.error.HTTPError as exc:
            raise PushFailed(
                f"办件平台拒绝了推送（HTTP {exc.code}{_reason(exc)}）", unavailable=exc.code >= 500
            ) from exc
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as exc:
            reason = "超时" if "timed out" in str(exc) else "无法连接"
            raise PushFailed(f"办件平台暂时无法访问（{reason}）", unavailable=True) from exc
        except ValueError as exc:  # a reply cut off mid-way: not known to be recorded
            raise PushFailed("办件平台的答复不完整", unavailable=True) from exc
        return bool(answer.get("duplicate"))


def _reason(error: urllib.error.HTTPError) -> str:
    """The platform's own words on a refusal, when it gave any."""
    try:
        return "：" + str(json.loads(error.read().decode("utf-8"))["error"])[:100]
    except (ValueError, KeyError, TypeError, OSError):
        return ""


def default_client() -> CasePushClient | None:
    """The configured platform, or None when pushing is off (ANJU_CASE_PUSH_URL empty)."""
    if not settings.ANJU_CASE_PUSH_URL:
        return None
    return CasePushClient(
        settings.ANJU_CASE_PUSH_URL,
        settings.ANJU_DATA_PLATFORM_APP_ID,
        settings.ANJU_DATA_PLATFORM_SECRET,
        timeout=settings.ANJU_DATA_PLATFORM_TIMEOUT,
    )
