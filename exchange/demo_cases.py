"""The demo platform's case API (办件状态推送) and personal centre (个人中心).

POST /api/cases (signed) records a case step once per idempotency key and answers 200 also for
a repeat, saying duplicate; GET /centre/?id=<ID number> shows that citizen's cases as the
provincial personal centre would. Records live in memory and, with `--cases-file`, in a
JSON-lines file appended under an exclusive lock, so they survive a restart of the platform
(and processes sharing the file see each other's records).
"""

import fcntl
import html
import json
import threading
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from urllib.parse import parse_qs

from exchange.idcard import validate_id_number

PATH = "/api/cases"
CENTRE = "/centre/"
FIELDS = ("key", "case_number", "id_number", "step", "step_name", "result", "occurred_at")
RESULTS = ("办理中", "退回补正", "通过", "不予通过")


class CaseBook:
    """Case steps received, one per idempotency key, in the order they arrived."""

    def __init__(self, path: str | Path | None = None):
        self.path = Path(path) if path else None
        self.lock = threading.Lock()
        self.records: list[dict] = []
        self.keys: set[str] = set()
        self.offset = 0  # bytes of the file already read

    def add(self, step: dict) -> bool:
        """Record a step; False when its key was recorded before (nothing written)."""
        with self.lock:
            if self.path is None:
                return self._remember(step)
            with self.path.open("a+b") as fh:
                fcntl.flock(fh, fcntl.LOCK_EX)
                self._catch_up(fh, repair=True)
                if step["key"] in self.keys:
                    return False
                line = (json.dumps(step, ensure_ascii=False) + "\n").encode()
                fh.seek(0, 2)
                fh.write(line)
                fh.flush()
                self.offset += len(line)
                return self._remember(step)

    def cases_of(self, id_number: str) -> list[dict]:
        """The citizen's cases, newest first: number, item, current step, history in order."""
        with self.lock:
            if self.path is not None and self.path.exists():
                with self.path.open("rb") as fh:
                    fcntl.flock(fh, fcntl.LOCK_SH)
                    self._catch_up(fh, repair=False)
            steps = [r for r in self.records if r["id_number"] == id_number]
        cases: dict[str, dict] = {}
        for step in steps:
            case = cases.setdefault(
                step["case_number"],
                {"number": step["case_number"], "item": step.get("item", ""), "history": []},
            )
            case["history"].append(step)
        for case in cases.values():
            case["current"] = case["history"][-1]
        return sorted(cases.values(), key=lambda c: c["current"]["occurred_at"], reverse=True)

    def _remember(self, step: dict) -> bool:
        if step["key"] in self.keys:
            return False
        self.keys.add(step["key"])
        self.records.append(step)
        return True

    def _catch_up(self, fh, *, repair: bool) -> None:
        """Read lines other processes (or an earlier run) appended; a torn last line, left by
        a crash mid-write, is cut off when we hold the write lock."""
        fh.seek(self.offset)
        data = fh.read()
        complete = data[: data.rfind(b"\n") + 1]
        for line in complete.splitlines():
            if line.strip():
                self._remember(json.loads(line))
        self.offset += len(complete)
        if repair and len(complete) < len(data):
            fh.truncate(self.offset)


def problem(step: object) -> str:
    """Why a pushed step cannot be recorded, in Chinese; empty when it can."""
    if not isinstance(step, dict):
        return "请求体须为 JSON 对象"
    for field in FIELDS:
        if not isinstance(step.get(field), str) or not step[field].strip():
            return f"缺少字段 {field}"
    if len(step["key"]) > 64:
        return "key 过长（至多 64 个字符）"
    if step["result"] not in RESULTS:
        return f"result 须为 {'、'.join(RESULTS)} 之一"
    if error := validate_id_number(step["id_number"]):
        return f"id_number：{error}"
    try:
        datetime.fromisoformat(step["occurred_at"])
    except ValueError:
        return "occurred_at 须为 ISO 8601 时间"
    return ""


def receive(book: CaseBook, method: str, body: bytes) -> tuple[int, dict]:
    """The signed case API: (status, JSON answer) for the platform to send."""
    if method != "POST":
        return 404, {"error": "not found"}
    try:
        step = json.loads(body)
    except ValueError:
        return 400, {"error": "请求体不是 JSON"}
    if error := problem(step):
        return 400, {"error": error}
    step = {f: step[f] for f in (*FIELDS, "item") if isinstance(step.get(f), str)}
    if book.add(step):
        return 200, {"recorded": True, "key": step["key"]}
    return 200, {"recorded": False, "duplicate": True, "key": step["key"]}


def centre(book: CaseBook, environ: dict, start_response: Callable) -> list[bytes]:
    """The personal centre page for the ID number in ?id= (a form to type it otherwise)."""
    id_number = (parse_qs(environ.get("QUERY_STRING", "")).get("id") or [""])[0].strip()
    page = _page(id_number, book.cases_of(id_number) if id_number else [])
    data = page.encode()
    start_response(
        "200 OK",
        [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(data)))],
    )
    return [data]


STYLE = """
body{margin:0;font:15px/1.5 system-ui,sans-serif;background:#f3f5f8;color:#1d2630}
header{background:#1f5fbf;color:#fff;padding:12px 16px}header h1{margin:0;font-size:18px}
main{max-width:640px;margin:0 auto;padding:12px}
form{display:flex;gap:8px;margin-bottom:12px}input{flex:1;min-width:0;padding:8px;font:inherit}
button{padding:8px 14px;font:inherit;background:#1f5fbf;color:#fff;border:0;border-radius:4px}
.case{background:#fff;border-radius:8px;padding:12px 14px;margin-bottom:12px}
.case h2{margin:0 0 4px;font-size:16px}.meta{color:#5b6775;font-size:13px;word-break:break-all}
.now{margin:8px 0;font-weight:600}.tag{display:inline-block;padding:0 6px;border-radius:3px;
font-size:13px;background:#e8f0fd;color:#1f5fbf}.tag.通过{background:#e3f6e8;color:#1b7a3a}
.tag.不予通过{background:#fde8e8;color:#b42318}.tag.退回补正{background:#fff3dc;color:#9a5b00}
ol{margin:0;padding-left:20px}li{margin:4px 0}time{color:#5b6775;font-size:13px;display:block}
.empty{color:#5b6775;text-align:center;padding:24px 0}
"""


def _page(id_number: str, cases: list[dict]) -> str:
    e = html.escape
    body = [
        f'<form method="get" action="{CENTRE}"><input name="id" value="{e(id_number)}" '
        'placeholder="身份证号" inputmode="text" autocomplete="off" aria-label="身份证号">'
        "<button>查询</button></form>"
    ]
    if id_number and not cases:
        body.append('<p class="empty">暂无办件记录。</p>')
    for case in cases:
        now = case["current"]
        steps = "".join(
            f"<li><time>{e(_when(s['occurred_at']))}</time>{e(s['step_name'])} "
            f'<span class="tag {e(s["result"])}">{e(s["result"])}</span></li>'
            for s in case["history"]
        )
        body.append(
            f'<section class="case"><h2>{e(case["item"] or "办件")}</h2>'
            f'<div class="meta">办件编码：{e(case["number"])}</div>'
            f'<p class="now">当前环节：{e(now["step_name"])} '
            f'<span class="tag {e(now["result"])}">{e(now["result"])}</span></p>'
            f"<ol>{steps}</ol></section>"
        )
    masked = f"（{e(id_number[:6])}********{e(id_number[-4:])}）" if len(id_number) > 10 else ""
    return (
        '<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>我的办件 - 个人中心（演示）</title><style>{STYLE}</style></head><body>"
        f"<header><h1>个人中心 · 我的办件{masked}</h1></header>"
        f"<main>{''.join(body)}</main></body></html>"
    )


def _when(iso: str) -> str:
    try:
        return datetime.fromisoformat(iso).strftime("%Y-%m-%d %H:%M:%S")
    except ValueError:
        return iso
