"""The served portal's access log shows what was asked for, not the personal details in it."""

import time
from urllib.request import urlopen


def test_the_access_log_keeps_paths_and_drops_query_strings(site_url, site_access_log):
    secret = "SQ2026-000123&id6=34567X"
    with urlopen(f"{site_url}/status/?number={secret}&probe=access-log-test") as response:
        assert response.status == 200
    deadline = time.monotonic() + 10
    while "/status/" not in (log := site_access_log.read_text(encoding="utf-8")):
        assert time.monotonic() < deadline, "the access log did not record the request"
        time.sleep(0.1)
    line = next(row for row in log.splitlines() if "/status/" in row)
    assert '"GET /status/ HTTP/1.1" 200' in line
    assert "34567X" not in log and "SQ2026-000123" not in log and "probe" not in log
