"""The provincial electronic licence service (电子证照库): which licences a person holds, asked
over signed HTTP like the department sources, so the applicant need not bring paper copies.

GET <ANJU_LICENCE_URL>/licences/<kind>/<id_number> answers {"kind", "id_number", "licences":
[{"type", "name", "number", "holder", "issuer", "issued_on", "valid_until", "status",
"details"}]}; an empty list means the person holds none of that kind (not an error).
"""

import hashlib
import json
import urllib.error
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from exchange.sources import (
    DataSource,
    FileSnapshotSource,
    HttpJsonSource,
    SourceUnavailable,
    SyntheticSource,
)

# The licence types asked for on every application, in the order pages list them.
KINDS = {
    "hukou": _("居民户口簿"),
    "marriage": _("结婚证"),
    "real_estate": _("不动产权证书"),
    "disability": _("残疾人证"),
}
SERVICE = "电子证照库"
REQUIRED_FIELDS = ("number", "issuer")


@dataclass(frozen=True)
class LicenceAnswer:
    """What the service said about one licence type for one person."""

    kind: str
    source: str
    fetched_at: datetime
    payload: dict

    @property
    def licences(self) -> list[dict]:
        return self.payload.get("licences", [])

    @property
    def payload_hash(self) -> str:
        data = json.dumps(self.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(data.encode()).hexdigest()


def parse(kind: str, body: object) -> dict:
    """The service's answer checked for shape: a malformed reply is the service's fault and is
    refused like an unreachable service, never half-kept."""
    label = f"{SERVICE}（{KINDS[kind]}）"
    if not isinstance(body, dict) or body.get("kind") != kind:
        raise SourceUnavailable(gettext("%(label)s：返回的数据格式不正确") % {"label": label})
    found = body.get("licences")
    if not isinstance(found, list) or not all(isinstance(item, dict) for item in found):
        raise SourceUnavailable(gettext("%(label)s：返回的证照列表格式不正确") % {"label": label})
    for index, item in enumerate(found, start=1):
        missing = [f for f in REQUIRED_FIELDS if not isinstance(item.get(f), str) or not item[f]]
        if missing:
            raise SourceUnavailable(
                gettext("%(label)s：第 %(index)s 本证照缺少字段 %(fields)s")
                % {"label": label, "index": index, "fields": "、".join(missing)}
            )
    return {"kind": kind, "licences": found}


class HttpLicenceSource(HttpJsonSource):
    """The licence service over the platform's signed HTTP: same signing, timeouts, retries."""

    def __init__(self, base_url: str, app_id: str, secret: str, **kwargs):
        super().__init__(base_url, app_id, secret, **kwargs)
        self.name = f"{SERVICE} {self.base_url}"

    def fetch_licences(self, kind: str, id_number: str) -> LicenceAnswer:
        path = f"/licences/{kind}/{id_number}"
        try:
            body = self._call(SERVICE, "GET", path, b"", self.timeout)
        except SourceUnavailable as exc:
            cause = exc.__cause__
            if isinstance(cause, urllib.error.HTTPError) and cause.code in (401, 403):
                raise SourceUnavailable(
                    gettext(
                        "%(service)s：签名校验未通过（HTTP %(code)s），"
                        "请系统管理员核对接入应用标识和密钥"
                    )
                    % {"service": SERVICE, "code": cause.code}
                ) from exc
            raise
        return LicenceAnswer(kind, self.name, timezone.now(), parse(kind, body))


LicenceSource = HttpLicenceSource


def default_licence_source() -> HttpLicenceSource:
    return HttpLicenceSource(
        settings.ANJU_LICENCE_URL or settings.ANJU_DATA_PLATFORM_URL,
        settings.ANJU_DATA_PLATFORM_APP_ID,
        settings.ANJU_DATA_PLATFORM_SECRET,
        timeout=settings.ANJU_DATA_PLATFORM_TIMEOUT,
    )


def licence_source_for(departments: DataSource | None) -> LicenceSource | None:
    """The licence service beside the department source in use: none beside delivered files
    (there is no licence file) nor beside the offline demo load (the demo's cases get theirs
    when a resident submits through the demo platform)."""
    if isinstance(departments, SyntheticSource | FileSnapshotSource) or (
        departments is None and settings.ANJU_DATA_SOURCE == "files"
    ):
        return None
    return default_licence_source()


def fetch_all(id_number: str, source: LicenceSource | None = None) -> dict[str, LicenceAnswer]:
    """Every licence type, or SourceUnavailable naming what failed (nothing partial)."""
    source = source or default_licence_source()
    return {kind: source.fetch_licences(kind, id_number) for kind in KINDS}
