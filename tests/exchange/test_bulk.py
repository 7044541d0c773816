"""Bulk queries (fetch_many): each person's record is exactly what the single query gives, on
every source; the demo platform's bulk endpoint takes signed, paged requests only."""

import csv
import json
import urllib.error
import urllib.request
from datetime import date, timedelta

import pytest

from exchange.idcard import make_id_number
from exchange.signing import sign
from exchange.sources import (
    FileSnapshotSource,
    HttpJsonSource,
    SourceUnavailable,
    SyntheticSource,
)
from exchange.synthetic import DEPARTMENTS, FAILS, record

APP, SECRET = "anju-demo", "anju-demo-secret"


def people(n: int) -> list[str]:
    """Valid ID numbers, among them the reserved sequences that break a rule."""
    reserved = list(FAILS)
    return [
        make_id_number(
            "341602",
            date(1960, 1, 1) + timedelta(days=37 * i),
            int(reserved[i % len(reserved)]) if i % 5 == 0 else 300 + i,
        )
        for i in range(n)
    ]


def test_bulk_answers_equal_single_answers_for_every_department(data_platform):
    numbers = people(23)
    # A page size of 7: four requests per department, the answers put back together.
    source = HttpJsonSource(data_platform, APP, SECRET, timeout=5, page_size=7)
    for department in DEPARTMENTS:
        many = source.fetch_many(department, numbers + numbers[:3])  # repeats asked once
        assert set(many) == set(numbers)
        for number in numbers:
            single = source.fetch(department, number)
            assert many[number].payload == single.payload == record(department, number)
            assert many[number].payload_hash == single.payload_hash
            assert many[number].department == department


def test_an_invalid_id_number_is_left_out_as_the_single_query_refuses_it(data_platform):
    source = HttpJsonSource(data_platform, APP, SECRET, timeout=5, retries=0)
    good = people(2)
    bad = good[0][:-1] + ("0" if good[0][-1] != "0" else "1")  # wrong check digit
    assert set(source.fetch_many("tax", [*good, bad])) == set(good)
    with pytest.raises(SourceUnavailable, match="HTTP 400"):
        source.fetch("tax", bad)


def _post(url: str, body: bytes, headers: dict) -> int:
    request = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_the_bulk_endpoint_requires_a_signature_over_its_body(data_platform):
    path = "/api/tax"
    url = data_platform + path
    body = json.dumps({"id_numbers": people(3)}).encode()
    assert _post(url, body, {"Content-Type": "application/json"}) == 401
    assert _post(url, body, sign(APP, "not-the-secret", "POST", path, body)) == 401
    # Signed for another body: a request cannot be altered in transit.
    other = json.dumps({"id_numbers": people(4)}).encode()
    assert _post(url, body, sign(APP, SECRET, "POST", path, other)) == 401
    headers = sign(APP, SECRET, "POST", path, body)
    assert _post(url, body, headers) == 200
    assert _post(url, body, headers) == 401, "a captured request cannot be replayed"
    wrong = HttpJsonSource(data_platform, APP, "not-the-secret", timeout=3, retries=0)
    with pytest.raises(SourceUnavailable, match=r"税务.*HTTP 401"):
        wrong.fetch_many("tax", people(2))


def test_a_page_is_at_most_500_id_numbers(data_platform):
    path = "/api/fund"
    body = json.dumps({"id_numbers": people(501)}).encode()
    assert _post(data_platform + path, body, sign(APP, SECRET, "POST", path, body)) == 413
    source = HttpJsonSource(data_platform, APP, SECRET, timeout=10, page_size=10_000)
    assert source.page_size == 500
    assert len(source.fetch_many("fund", people(501))) == 501


def test_an_unreachable_platform_names_the_department_in_chinese():
    source = HttpJsonSource("http://127.0.0.1:9", APP, SECRET, timeout=0.5, retries=0)
    with pytest.raises(SourceUnavailable, match="不动产登记：数据共享平台暂时无法访问"):
        source.fetch_many("property", people(2))


def test_file_and_synthetic_sources_answer_in_bulk_as_singly(tmp_path):
    numbers = people(6)
    with (tmp_path / "tax.csv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, ["身份证号", "monthly_income"])
        writer.writeheader()
        for number in numbers[:4]:
            writer.writerow(
                {"身份证号": number, "monthly_income": record("tax", number)["monthly_income"]}
            )
    files = FileSnapshotSource(tmp_path)
    many = files.fetch_many("tax", numbers)
    assert set(many) == set(numbers)
    for number in numbers:
        assert many[number].payload == files.fetch("tax", number).payload
    assert many[numbers[5]].payload == {}, "a person not in the file: an empty record"
    with pytest.raises(SourceUnavailable, match="不动产登记：没有该部门的数据文件"):
        files.fetch_many("property", numbers)
    synthetic = SyntheticSource()
    for department in DEPARTMENTS:
        answers = synthetic.fetch_many(department, numbers)
        assert {n: a.payload for n, a in answers.items()} == {
            n: synthetic.fetch(department, n).payload for n in numbers
        }
