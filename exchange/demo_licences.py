"""Synthetic electronic licences (电子证照) for the demo platform, derived from the ID number alone.

They agree with the department records of exchange.synthetic: everyone has a 户口簿 from the
police record, people married per the civil record have a 结婚证, the "owns property" people
(sequence 901) have a 不动产权证书 per registered flat, the certified disabled a 残疾人证.
Kept free of Django so the demo platform can serve them.
"""

import hashlib
import random
from datetime import date

from exchange.idcard import validate_id_number
from exchange.synthetic import record

# The licence service's type codes, each with the licence's own name.
KINDS = {
    "hukou": "居民户口簿",
    "marriage": "结婚证",
    "real_estate": "不动产权证书",
    "disability": "中华人民共和国残疾人证",
}

COUNTIES = {
    "341602": "谯城区",
    "341621": "涡阳县",
    "341622": "蒙城县",
    "341623": "利辛县",
}


def _rng(id_number: str, kind: str) -> random.Random:
    seed = hashlib.sha256(f"{id_number}:licence:{kind}".encode()).hexdigest()
    return random.Random(int(seed[:16], 16))


def _county(code: str) -> str:
    return COUNTIES.get(code, "亳州市")


def _day(rng: random.Random, year: int) -> date:
    return date(year, rng.randint(1, 12), rng.randint(1, 28))


def _licence(kind: str, number: str, holder: str, issuer: str, issued: date, **extra) -> dict:
    valid_until = extra.pop("valid_until", None)
    return {
        "type": kind,
        "name": KINDS[kind],
        "number": number,
        "holder": holder,
        "issuer": issuer,
        "issued_on": issued.isoformat(),
        "valid_until": valid_until.isoformat() if valid_until else None,
        "status": "有效",
        "details": extra,
    }


def licences(kind: str, id_number: str) -> list[dict]:
    """The licences of this type the person holds: empty when they hold none."""
    rng = _rng(id_number, kind)
    police = record("police", id_number)
    holder = police["name"]
    county = police["hukou_county"]
    if kind == "hukou":
        since = police["hukou_since"]
        number = f"{county}{rng.randint(10_000_000, 99_999_999)}"
        head = police["members"][0]["name"]
        issuer = f"亳州市公安局{_county(county)}分局"
        return [
            _licence(
                kind,
                number,
                holder,
                issuer,
                _day(rng, since),
                head=head,
                members=len(police["members"]),
            )
        ]
    if kind == "marriage":
        if record("civil", id_number)["marriage"] != "已婚":
            return []
        year = rng.randint(1990, 2022)
        number = f"J{county}-{year}-{rng.randint(1, 9999):06d}"
        spouse = next((m["name"] for m in police["members"] if m["relation"] == "配偶"), "")
        issuer = f"{_county(county)}民政局婚姻登记处"
        return [_licence(kind, number, holder, issuer, _day(rng, year), spouse=spouse)]
    if kind == "real_estate":
        titles = []
        for flat in record("property", id_number)["properties"]:
            year = rng.randint(2016, 2024)
            number = f"皖（{year}）亳州市不动产权第{rng.randint(1, 9_999_999):07d}号"
            issuer = "亳州市自然资源和规划局"
            titles.append(
                _licence(
                    kind,
                    number,
                    holder,
                    issuer,
                    _day(rng, year),
                    address=flat["address"],
                    area=flat["area"],
                )
            )
        return titles
    if kind == "disability":
        disability = record("disability", id_number)
        if not disability["certified"]:
            return []
        issued = _day(rng, rng.randint(2015, 2024))
        category = rng.randint(1, 7)
        number = f"{id_number}{category}{disability['grade']}"
        return [
            _licence(
                kind,
                number,
                holder,
                "亳州市残疾人联合会",
                issued,
                valid_until=issued.replace(year=issued.year + 10),
                grade=disability["grade"],
            )
        ]
    raise KeyError(kind)


def answer(path: str, method: str) -> tuple[int, dict]:
    """The licence service's reply to GET /licences/<kind>/<id_number>: status and body."""
    parts = path.strip("/").split("/")
    if method != "GET" or len(parts) != 3 or parts[0] != "licences" or parts[1] not in KINDS:
        return 404, {"error": "not found"}
    kind, id_number = parts[1], parts[2]
    if validate_id_number(id_number):
        return 400, {"error": "invalid id number"}
    return 200, {"kind": kind, "id_number": id_number, "licences": licences(kind, id_number)}
