"""People whose data must never appear unmasked, and publications that list them."""

import pytest

from disclosure.models import Kind, Publication
from disclosure.services import enqueue_publication, process_outbox
from geo.models import Region

PEOPLE = [
    {
        "_key": "SQ2026-0001",
        "name": "张三丰",
        "id": "340321199001011234",
        "phone": "13812345678",
        "income": 1234,
        "members": 3,
    },
    {
        "_key": "SQ2026-0002",
        "name": "李四",
        "id": "34160219851231567X",
        "phone": "15955556666",
        "income": 2345,
        "members": 2,
    },
    {
        "_key": "SQ2026-0003",
        "name": "欧阳晓明",
        "id": "341621197703033333",
        "phone": "18900001111",
        "income": 999,
        "members": 4,
    },
]
COLUMNS = [
    {"key": "name", "label": "申请人", "kind": "name"},
    {"key": "id", "label": "身份证号", "kind": "id_number"},
    {"key": "phone", "label": "联系电话", "kind": "phone"},
    {"key": "members", "label": "家庭人口", "kind": "number"},
]


def publish(**overrides) -> Publication:
    """Through the outbox, as the back office does, then the worker's step."""
    fields = {
        "kind": Kind.REVIEW_NOTICE,
        "region": Region.objects.get(adcode="341602"),
        "title": "2026 年第 1 批公租房申请审核公示",
        "body": "以下家庭经审核符合保障条件，现予公示。",
        "columns": COLUMNS,
        "rows": PEOPLE,
        "period_working_days": 7,
    } | overrides
    outbox = enqueue_publication(**fields)
    return process_outbox(outbox.pk)


@pytest.fixture
def notice(db) -> Publication:
    return publish()
