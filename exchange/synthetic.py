"""Synthetic department records for the demo city's people, derived from the ID number alone.

The same number always gives the same records, so the demo data platform needs no database;
a few ID sequence numbers are reserved to make households that fail particular rules.
"""

import hashlib
import random

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡"
    "余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯"
    "龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华玉萍红梅鑫波斌宇浩凯健俊帆帅旭宁博文"

# Sequence numbers (digits 15–17 of the ID) that make a household fail one rule, for demos.
FAILS = {
    "901": "property",  # owns a flat big enough
    "902": "vehicle",  # owns a car worth more than the limit
    "903": "income",  # earns too much per head
    "904": "business",  # registered a company
}


def _rng(id_number: str, department: str) -> random.Random:
    seed = hashlib.sha256(f"{id_number}:{department}".encode()).hexdigest()
    return random.Random(int(seed[:16], 16))


def person_name(id_number: str) -> str:
    rng = _rng(id_number, "name")
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice([1, 2])))


def _fails(id_number: str) -> str | None:
    return FAILS.get(id_number[14:17])


def record(department: str, id_number: str) -> dict:
    """What one department holds about the person with this ID number."""
    rng = _rng(id_number, department)
    fail = _fails(id_number)
    if department == "police":
        size = rng.choice([1, 2, 2, 3, 3, 3, 4, 4, 5])
        members = [{"name": person_name(id_number), "id_number": id_number, "relation": "本人"}]
        relations = ["配偶", "子", "女", "母亲"]
        for i in range(size - 1):
            members.append(
                {
                    "name": person_name(f"{id_number}-{i}"),
                    "id_number": "",
                    "relation": relations[i % len(relations)],
                }
            )
        return {
            "name": members[0]["name"],
            "hukou_county": id_number[:6],
            "hukou_since": rng.randint(1995, 2022),
            "members": members,
            "vehicles": [{"plate": "皖S·" + f"{rng.randint(10000, 99999)}", "value": 260000}]
            if fail == "vehicle"
            else (
                [
                    {
                        "plate": "皖S·" + f"{rng.randint(10000, 99999)}",
                        "value": rng.randint(20000, 80000),
                    }
                ]
                if rng.random() < 0.2
                else []
            ),
        }
    if department == "property":
        owned = [{"address": "（演示）某小区", "area": 96.0}] if fail == "property" else []
        return {"properties": owned}
    if department == "fund":
        return {
            "monthly_deposit": rng.choice([0, 0, 180, 240, 320]),
            "account_open": rng.random() < 0.5,
        }
    if department == "civil":
        # Married exactly when 户籍 lists a spouse, so the departments (and the 结婚证 of the
        # demo licence service) tell one story about a household.
        spouse = any(m["relation"] == "配偶" for m in record("police", id_number)["members"])
        return {
            "dibao": rng.random() < 0.15,
            "tekun": rng.random() < 0.03,
            "marriage": "已婚" if spouse else rng.choice(["未婚", "离异", "丧偶"]),
        }
    if department == "social":
        return {"insured_months": rng.randint(12, 240), "employer": "（演示）亳州某公司"}
    if department == "tax":
        income = 9000 if fail == "income" else rng.randint(1200, 3200)
        return {"monthly_income": income}
    if department == "market":
        return {
            "businesses": [{"name": "（演示）某商贸有限公司", "role": "法定代表人"}]
            if fail == "business"
            else []
        }
    if department == "disability":
        return {"certified": rng.random() < 0.05, "grade": rng.choice([1, 2, 3, 4])}
    raise KeyError(department)


DEPARTMENTS = {
    "police": "公安（户籍、车辆）",
    "property": "不动产登记",
    "fund": "住房公积金",
    "civil": "民政（低保、特困、婚姻）",
    "social": "人社（社会保险）",
    "tax": "税务",
    "market": "市场监管（企业登记）",
    "disability": "残联",
}
