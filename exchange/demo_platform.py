"""The demo city data-sharing platform: a separate small HTTP service on loopback.

Serves synthetic department records (exchange.synthetic) for any valid ID number, to signed
requests only, one endpoint per department: GET /api/<department>/<id_number>, and for many
people at once POST /api/<department> with {"id_numbers": [...]} (at most BULK_PAGE, the body
signed with the request), answering {"data": {id_number: record}, "invalid": {id_number: why}}.
`make run` and the tests start it:  python -m exchange.demo_platform --port 8765
(`--fail-after N` makes it refuse every request after the N-th: a platform going down.)
"""

import argparse
import contextlib
import json
import os
import signal
import threading
import time
from functools import lru_cache
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from exchange import demo_cases, demo_licences
from exchange.idcard import validate_id_number
from exchange.signing import NonceStore, verify
from exchange.synthetic import DEPARTMENTS, record

BULK_PAGE = 500
MAX_BODY = 64 * 1024

# A bulk re-check asks every department about the same people: each number is checked once.
_invalid = lru_cache(maxsize=1 << 18)(validate_id_number)


class Platform:
    def __init__(self, app_id: str, secret: str, delay: float = 0.0, fail_after: int | None = None):
        self.app_id, self.secret, self.delay = app_id, secret, delay
        self.nonces = NonceStore()
        self.fail_after = fail_after
        self.served = 0
        self.lock = threading.Lock()
        self.cases = demo_cases.CaseBook()  # main() gives it --cases-file

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        if self.fail_after is not None and path != "/health":
            with self.lock:
                self.served += 1
                down = self.served > self.fail_after
            if down:
                return self._json(start_response, 503, {"error": "unavailable"})
        headers = {
            "X-App-Id": environ.get("HTTP_X_APP_ID", ""),
            "X-Timestamp": environ.get("HTTP_X_TIMESTAMP", ""),
            "X-Nonce": environ.get("HTTP_X_NONCE", ""),
            "X-Signature": environ.get("HTTP_X_SIGNATURE", ""),
        }
        if path == "/health":
            return self._json(start_response, 200, {"ok": True})
        if path == demo_cases.CENTRE:  # the citizen's personal centre page (unsigned)
            return demo_cases.centre(self.cases, environ, start_response)
        method = environ["REQUEST_METHOD"]
        body = b""
        if method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if not 0 <= length <= MAX_BODY:
                return self._json(start_response, 413, {"error": "body too large"})
            body = environ["wsgi.input"].read(length)
        if not verify(self.app_id, self.secret, method, path, headers, body, nonces=self.nonces):
            return self._json(start_response, 401, {"error": "signature"})
        if path == demo_cases.PATH:  # 办件状态推送 (exchange/demo_cases.py)
            return self._json(start_response, *demo_cases.receive(self.cases, method, body))
        if path.startswith("/licences/"):  # the 电子证照库 (exchange/demo_licences.py)
            return self._json(start_response, *demo_licences.answer(path, method))
        if method == "POST":
            return self._bulk(start_response, path, body)
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "api" or parts[1] not in DEPARTMENTS:
            return self._json(start_response, 404, {"error": "not found"})
        if validate_id_number(parts[2]):
            return self._json(start_response, 400, {"error": "invalid id number"})
        if self.delay:
            time.sleep(self.delay)
        body = {"department": parts[1], "id_number": parts[2], "data": record(parts[1], parts[2])}
        return self._json(start_response, 200, body)

    def _bulk(self, start_response, path: str, body: bytes):
        """Many people of one department: each record exactly as the single GET answers it."""
        parts = path.strip("/").split("/")
        if len(parts) != 2 or parts[0] != "api" or parts[1] not in DEPARTMENTS:
            return self._json(start_response, 404, {"error": "not found"})
        try:
            numbers = json.loads(body)["id_numbers"]
        except (ValueError, KeyError, TypeError):
            return self._json(start_response, 400, {"error": "body must be {id_numbers: [...]}"})
        if not isinstance(numbers, list) or not all(isinstance(n, str) for n in numbers):
            return self._json(start_response, 400, {"error": "id_numbers must be strings"})
        if len(numbers) > BULK_PAGE:
            return self._json(start_response, 413, {"error": f"at most {BULK_PAGE} per request"})
        if self.delay:
            time.sleep(self.delay)
        data, invalid = {}, {}
        for number in numbers:
            problem = _invalid(number)
            if problem:
                invalid[number] = problem
            else:
                data[number] = record(parts[1], number)
        return self._json(
            start_response, 200, {"department": parts[1], "data": data, "invalid": invalid}
        )

    @staticmethod
    def _json(start_response, status: int, body: dict):
        data = json.dumps(body, ensure_ascii=False).encode()
        reason = {
            200: "OK",
            400: "Bad Request",
            401: "Unauthorized",
            404: "Not Found",
            413: "Payload Too Large",
            503: "Service Unavailable",
        }[status]
        start_response(
            f"{status} {reason}",
            [
                ("Content-Type", "application/json; charset=utf-8"),
                ("Content-Length", str(len(data))),
            ],
        )
        return [data]


class ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class QuietHandler(WSGIRequestHandler):
    def log_message(self, *args) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description="演示数据共享平台（合成数据）")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--app-id", default="anju-demo")
    parser.add_argument("--secret", default="anju-demo-secret")
    parser.add_argument("--delay", type=float, default=0.0, help="seconds before each answer")
    parser.add_argument(
        "--fail-after", type=int, default=None, help="answer 503 after this many requests"
    )
    parser.add_argument("--cases-file", default=None, help="JSON lines keeping pushed case steps")
    parser.add_argument(
        "--processes",
        type=int,
        default=1,
        help="processes answering on the one port (each remembers its own nonces and count)",
    )
    args = parser.parse_args()
    app = Platform(args.app_id, args.secret, args.delay, args.fail_after)
    app.cases = demo_cases.CaseBook(args.cases_file)
    with make_server(args.host, args.port, app, ThreadingServer, QuietHandler) as server:
        print(f"demo data platform on http://{args.host}:{server.server_port}", flush=True)
        _fork(args.processes - 1)
        server.serve_forever()


def _fork(extra: int) -> None:
    """Processes that accept on the listening socket beside this one (the records are
    computed in Python: one process would use one core). Stopping this one stops them."""
    children = []
    for _ in range(max(extra, 0)):
        pid = os.fork()
        if pid == 0:
            return
        children.append(pid)
    if children:

        def stop(signum, frame) -> None:
            for pid in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            raise SystemExit(0)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)


if __name__ == "__main__":
    main()
