"""Department data sources behind one interface: the city platform over signed HTTP, or files
a department delivered. Callers get an Answer per department or a clear SourceUnavailable.

Each source answers one person (`fetch`) or many at once (`fetch_many`, for the re-check of
every tenant): the bulk answer for a person is the same record the single query gives.
"""

import csv
import hashlib
import http.client
import json
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext

from exchange.signing import sign
from exchange.synthetic import DEPARTMENTS


class SourceUnavailable(Exception):
    """A department could not be reached in time; the message says which, in Chinese."""


@dataclass
class Answer:
    department: str
    source: str
    fetched_at: datetime
    payload: dict

    @property
    def payload_hash(self) -> str:
        data = json.dumps(self.payload, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(data.encode()).hexdigest()


# The most ID numbers one bulk request may carry (the demo platform refuses more).
BULK_PAGE = 500


class DataSource(Protocol):
    name: str

    def fetch(self, department: str, id_number: str) -> Answer: ...

    def fetch_many(self, department: str, id_numbers: Sequence[str]) -> dict[str, Answer]:
        """One department's records for many people, keyed by ID number; an ID number the
        department refuses as invalid is left out (the single query refuses it too)."""
        ...


class HttpJsonSource:
    """The city data-sharing platform: one signed GET per department and person, or a signed
    POST of up to BULK_PAGE ID numbers per department; timeouts and retries on both."""

    def __init__(
        self,
        base_url: str,
        app_id: str,
        secret: str,
        timeout: float = 3.0,
        retries: int = 2,
        backoff: float = 0.3,
        page_size: int = BULK_PAGE,
        bulk_timeout: float | None = None,
    ):
        self.base_url, self.app_id, self.secret = base_url.rstrip("/"), app_id, secret
        self.timeout, self.retries, self.backoff = timeout, retries, backoff
        self.page_size = max(1, min(page_size, BULK_PAGE))
        # A page of hundreds of records takes the platform longer than one record.
        self.bulk_timeout = bulk_timeout or max(timeout, 15.0)
        self.name = f"数据共享平台 {self.base_url}"

    def fetch(self, department: str, id_number: str) -> Answer:
        body = self._call(department, "GET", f"/api/{department}/{id_number}", b"", self.timeout)
        return Answer(department, self.name, timezone.now(), body["data"])

    def fetch_many(self, department: str, id_numbers: Sequence[str]) -> dict[str, Answer]:
        path = f"/api/{department}"
        answers: dict[str, Answer] = {}
        unique = list(dict.fromkeys(id_numbers))
        for start in range(0, len(unique), self.page_size):
            page = unique[start : start + self.page_size]
            payload = json.dumps({"id_numbers": page}, separators=(",", ":")).encode()
            body = self._call(department, "POST", path, payload, self.bulk_timeout)
            now = timezone.now()
            for number, data in body["data"].items():
                answers[number] = Answer(department, self.name, now, data)
        return answers

    def _call(self, department: str, method: str, path: str, payload: bytes, timeout: float):
        label = DEPARTMENTS.get(department, department)
        last_error = ""
        for attempt in range(self.retries + 1):
            headers = sign(self.app_id, self.secret, method, path, payload)
            if method == "POST":
                headers["Content-Type"] = "application/json"
            request = urllib.request.Request(
                self.base_url + path,
                data=payload if method == "POST" else None,
                headers=headers,
                method=method,
            )
            try:
                with urllib.request.urlopen(request, timeout=timeout) as response:
                    return json.loads(response.read().decode("utf-8"))
            except urllib.error.HTTPError as exc:
                if exc.code < 500:  # our request is wrong: retrying will not help
                    raise SourceUnavailable(
                        gettext("%(label)s：数据平台拒绝了查询（HTTP %(code)s）")
                        % {"label": label, "code": exc.code}
                    ) from exc
                last_error = f"HTTP {exc.code}"
            except (
                urllib.error.URLError,
                TimeoutError,
                OSError,
                http.client.HTTPException,
                ValueError,
            ) as exc:
                # HTTPException/ValueError: a reply cut off mid-way (the platform went down).
                last_error = gettext("超时") if "timed out" in str(exc) else gettext("无法连接")
            if attempt < self.retries:
                time.sleep(self.backoff * (attempt + 1))
        raise SourceUnavailable(
            gettext("%(label)s：数据共享平台暂时无法访问（%(error)s），请稍后重试")
            % {"label": label, "error": last_error}
        )


class FileSnapshotSource:
    """Files a department delivered (CSV, one per department, keyed by 身份证号 / id_number)."""

    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.name = f"部门数据文件 {self.directory}"

    def fetch(self, department: str, id_number: str) -> Answer:
        path = self.directory / f"{department}.csv"
        if not path.exists():
            raise SourceUnavailable(
                gettext("%(label)s：没有该部门的数据文件")
                % {"label": DEPARTMENTS.get(department, department)}
            )
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                if (row.get("id_number") or row.get("身份证号")) == id_number:
                    data = {
                        k: _value(v) for k, v in row.items() if k not in ("id_number", "身份证号")
                    }
                    stamp = datetime.fromtimestamp(
                        path.stat().st_mtime, tz=timezone.get_current_timezone()
                    )
                    return Answer(department, f"{self.name}/{path.name}", stamp, data)
        return Answer(department, f"{self.name}/{path.name}", timezone.now(), {})

    def fetch_many(self, department: str, id_numbers: Sequence[str]) -> dict[str, Answer]:
        """The file read once for all of them; a person not in it gets an empty record."""
        path = self.directory / f"{department}.csv"
        if not path.exists():
            raise SourceUnavailable(
                gettext("%(label)s：没有该部门的数据文件")
                % {"label": DEPARTMENTS.get(department, department)}
            )
        wanted = set(id_numbers)
        source = f"{self.name}/{path.name}"
        stamp = datetime.fromtimestamp(path.stat().st_mtime, tz=timezone.get_current_timezone())
        found: dict[str, Answer] = {}
        with path.open(encoding="utf-8-sig", newline="") as fh:
            for row in csv.DictReader(fh):
                number = row.get("id_number") or row.get("身份证号")
                if number in wanted and number not in found:
                    data = {
                        k: _value(v) for k, v in row.items() if k not in ("id_number", "身份证号")
                    }
                    found[number] = Answer(department, source, stamp, data)
        now = timezone.now()
        return {n: found.get(n) or Answer(department, source, now, {}) for n in id_numbers}


def _value(raw: str):
    """Cells holding JSON (lists, numbers, booleans) are read as such; the rest as text."""
    try:
        return json.loads(raw)
    except (json.JSONDecodeError, TypeError):
        return raw


def default_source() -> DataSource:
    if settings.ANJU_DATA_SOURCE == "files":
        return FileSnapshotSource(Path(settings.ANJU_DATA_SNAPSHOT_DIR))
    return HttpJsonSource(
        settings.ANJU_DATA_PLATFORM_URL,
        settings.ANJU_DATA_PLATFORM_APP_ID,
        settings.ANJU_DATA_PLATFORM_SECRET,
        timeout=settings.ANJU_DATA_PLATFORM_TIMEOUT,
    )


def query_all(id_number: str, source: DataSource | None = None) -> dict[str, Answer]:
    """Every department, or SourceUnavailable naming the ones that failed (nothing partial)."""
    source = source or default_source()
    answers, failures = {}, []
    for department in DEPARTMENTS:
        try:
            answers[department] = source.fetch(department, id_number)
        except SourceUnavailable as exc:
            failures.append(str(exc))
    if failures:
        raise SourceUnavailable("；".join(failures))
    return answers


class SyntheticSource:
    """The demo platform's records without HTTP: for loading the demo city offline."""

    name = "演示数据（程序生成）"

    def fetch(self, department: str, id_number: str) -> Answer:
        from exchange.synthetic import record

        return Answer(department, self.name, timezone.now(), record(department, id_number))

    def fetch_many(self, department: str, id_numbers: Sequence[str]) -> dict[str, Answer]:
        from exchange.idcard import validate_id_number
        from exchange.synthetic import record

        now = timezone.now()
        return {
            n: Answer(department, self.name, now, record(department, n))
            for n in id_numbers
            if not validate_id_number(n)
        }
