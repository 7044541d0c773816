"""The demo city data-sharing platform: a separate small HTTP service on loopback.

Serves synthetic department records (exchange.synthetic) for any valid ID number, to signed
requests only, one endpoint per department: GET /api/<department>/<id_number>.
`make run` and the tests start it:  python -m exchange.demo_platform --port 8765
"""

import argparse
import json
import time
from socketserver import ThreadingMixIn
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from exchange.idcard import validate_id_number
from exchange.signing import NonceStore, verify
from exchange.synthetic import DEPARTMENTS, record


class Platform:
    def __init__(self, app_id: str, secret: str, delay: float = 0.0):
        self.app_id, self.secret, self.delay = app_id, secret, delay
        self.nonces = NonceStore()

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "")
        headers = {
            "X-App-Id": environ.get("HTTP_X_APP_ID", ""),
            "X-Timestamp": environ.get("HTTP_X_TIMESTAMP", ""),
            "X-Nonce": environ.get("HTTP_X_NONCE", ""),
            "X-Signature": environ.get("HTTP_X_SIGNATURE", ""),
        }
        if path == "/health":
            return self._json(start_response, 200, {"ok": True})
        if not verify(
            self.app_id, self.secret, environ["REQUEST_METHOD"], path, headers, nonces=self.nonces
        ):
            return self._json(start_response, 401, {"error": "signature"})
        parts = path.strip("/").split("/")
        if len(parts) != 3 or parts[0] != "api" or parts[1] not in DEPARTMENTS:
            return self._json(start_response, 404, {"error": "not found"})
        if validate_id_number(parts[2]):
            return self._json(start_response, 400, {"error": "invalid id number"})
        if self.delay:
            time.sleep(self.delay)
        body = {"department": parts[1], "id_number": parts[2], "data": record(parts[1], parts[2])}
        return self._json(start_response, 200, body)

    @staticmethod
    def _json(start_response, status: int, body: dict):
        data = json.dumps(body, ensure_ascii=False).encode()
        reason = {200: "OK", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}[status]
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
    args = parser.parse_args()
    app = Platform(args.app_id, args.secret, args.delay)
    with make_server(args.host, args.port, app, ThreadingServer, QuietHandler) as server:
        print(f"demo data platform on http://{args.host}:{server.server_port}", flush=True)
        server.serve_forever()


if __name__ == "__main__":
    main()
