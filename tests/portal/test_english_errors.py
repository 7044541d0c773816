"""Errors a resident or a member of the public meets are in their language: each message is
marked for translation where it is raised (gettext at raise time, in the request's language),
so an English page does not carry a Chinese error.

A static check reads the resident-facing modules and fails on any `raise …(…)` whose message
is a Chinese literal or f-string not passed through gettext; functions only staff reach are
listed by name. Then a few real paths, with a word put into the English catalogue for the
test, show the message follows the reader's language.
"""

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client
from django.utils import translation
from django.utils.translation import trans_real

from disclosure.models import Publication
from disclosure.services import PublishError, file_objection
from exchange.idcard import validate_id_number
from housing.errors import NotAllowed
from tenancy.services import complaints

ROOT = Path(__file__).resolve().parents[2]
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
TRANSLATED = {"gettext", "_", "gettext_lazy", "ngettext", "pgettext", "ngettext_lazy"}

# Module → functions in it that only staff, jobs or loaders reach (their errors stay Chinese).
STAFF_ONLY: dict[str, set[str]] = {
    "housing/services.py": {"_check_actor", "decide", "run_data_check", "start_publicity"},
    "housing/identity.py": {"decide_claim"},
    "housing/forms.py": set(),
    "housing/views.py": set(),
    "housing/oidc.py": set(),
    "housing/oidc_accounts.py": set(),
    "housing/oidc_views.py": set(),
    "housing/licences.py": set(),
    "portal/views.py": set(),
    "portal/resident.py": set(),
    "portal/middleware.py": set(),
    "layers/api.py": set(),
    "geo/search.py": set(),
    "geo/locate.py": set(),
    "geo/unit_pages.py": set(),
    "geo/vacancy.py": set(),
    "disclosure/services.py": {"enqueue_publication", "handle_objection", "release_vacancies"},
    "disclosure/views.py": set(),
    "exchange/sources.py": set(),
    "exchange/licences.py": set(),
    "exchange/idcard.py": set(),
    "allocation/services/offers.py": {"_check_party"},
    "tenancy/services/contracts.py": {
        "approve",
        "cancel",
        "current_template",
        "draft",
        "draft_renewal",
        "move_in",
        "save_template",
    },
    "tenancy/services/repairs.py": {
        "_handled",
        "assign",
        "close",
        "report_by_staff",
        "schedule",
    },
    "tenancy/services/annual_reviews.py": {"decide"},
    "tenancy/services/renewals.py": {"decide", "recheck"},
    "tenancy/services/exits.py": {
        "_locked",
        "clean_damages",
        "inspect",
        "report_overdue",
        "withdraw",
    },
    "tenancy/services/complaints.py": {"_locked", "dismiss", "open_case"},
    "tenancy/verification.py": set(),
    "tenancy/views.py": set(),
    "tenancy/repair_views.py": set(),
    "tenancy/review_views.py": set(),
    "tenancy/exit_views.py": set(),
    "tenancy/complaint_views.py": set(),
    "credit/services.py": {
        "_locked",
        "confirm",
        "decide_repair",
        "organisation",
        "person",
        "propose",
        "query",
        "reject",
    },
    "credit/evidence.py": set(),
    "credit/selectors.py": set(),
}


def _literal_text(node: ast.expr) -> str | None:
    """The text of a str literal or f-string (or literals joined with +), else None."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(v.value for v in node.values if isinstance(v, ast.Constant))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        parts = [_literal_text(node.left), _literal_text(node.right)]
        return "".join(p for p in parts if p) if any(p is not None for p in parts) else None
    return None


def untranslated_raises(source: str, staff_only: set[str]) -> list[str]:
    """`raise X("中文…")` outside the staff-only functions, as "function:line: text"."""
    found = []

    def visit(node: ast.AST, function: str) -> None:
        for child in ast.iter_child_nodes(node):
            inside = function
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                inside = child.name if function == "<module>" else function
            if (
                isinstance(child, ast.Raise)
                and isinstance(child.exc, ast.Call)
                and inside not in staff_only
            ):
                for arg in [*child.exc.args, *(k.value for k in child.exc.keywords)]:
                    text = _literal_text(arg)
                    if text is not None and HAN.search(text):
                        found.append(f"{inside}:{child.lineno}: {text[:40]}")
            visit(child, inside)

    visit(ast.parse(source), "<module>")
    return found


def test_the_check_finds_an_unmarked_message():
    source = (
        "from django.utils.translation import gettext\n"
        "def a(x):\n    raise ValueError(f'没有 {x}')\n"
        "def b():\n    raise ValueError('不行')\n"
        "def c():\n    raise ValueError(gettext('不行'))\n"
        "def d(x):\n    raise ValueError(gettext('没有 %(x)s') % {'x': x})\n"
        "def staff():\n    raise ValueError('只给工作人员看')\n"
    )
    assert [f.split(":")[0] for f in untranslated_raises(source, {"staff"})] == ["a", "b"]


@pytest.mark.parametrize("module", sorted(STAFF_ONLY))
def test_resident_facing_errors_are_marked_for_translation(module):
    source = (ROOT / module).read_text(encoding="utf-8")
    problems = untranslated_raises(source, STAFF_ONLY[module])
    assert not problems, f"{module}: wrap these in gettext:\n" + "\n".join(problems)


@pytest.mark.parametrize("module", sorted(STAFF_ONLY))
def test_staff_only_names_still_exist(module):
    """An allow-list entry for a function that was renamed would silently hide nothing."""
    tree = ast.parse((ROOT / module).read_text(encoding="utf-8"))
    names = {n.name for n in ast.walk(tree) if isinstance(n, ast.FunctionDef)}
    assert STAFF_ONLY[module] <= names


# --- the message follows the reader's language ----------------------------------------------


@pytest.fixture
def english(monkeypatch):
    """Put translations into the English catalogue for one test (the real one is filled later)."""
    catalog = trans_real.translation("en")._catalog

    def says(msgid: str, text: str) -> None:
        monkeypatch.setitem(catalog._catalogs[0], msgid, text)

    return says


def test_an_id_number_error_is_in_the_readers_language(english):
    english("身份证号应为 18 位", "An ID number has 18 characters")
    assert validate_id_number("123") == "身份证号应为 18 位"
    with translation.override("en"):
        assert validate_id_number("123") == "An ID number has 18 characters"


@pytest.mark.django_db
def test_a_public_report_error_is_in_english(english):
    english("小区：请从列表中选择举报涉及的小区。", "Estate: choose one from the list.")
    with translation.override("en"), pytest.raises(NotAllowed) as caught:
        complaints.submit(
            estate_id=0, place="", kind_code="", text="x" * 20, anonymous=True, phone=""
        )
    assert str(caught.value) == "Estate: choose one from the list."


@pytest.mark.django_db
def test_an_objection_after_the_publicity_period_is_refused_in_english(english):
    english("公示期已结束，不能再提出异议。", "The publicity period has ended.")
    closed = next(p for p in Publication.objects.all()[:50] if not p.in_publicity)
    key = closed.items[0]["_key"] if closed.items else ""
    with translation.override("en"), pytest.raises(PublishError) as caught:
        file_objection(
            closed, item_key=key, name="张三", contact="13800000000", reason="…", ip=None
        )
    assert str(caught.value) == "The publicity period has ended."


@pytest.mark.django_db
def test_a_refused_request_answers_in_the_language_the_browser_asks_for(english):
    """The control-character guard runs before LocaleMiddleware and still answers in English."""
    english(
        "请求中含有不允许的控制字符（例如 %00），请检查输入的内容。",
        "The request contains a control character (such as %00).",
    )
    english_reader = Client(HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    refused = english_reader.get("/search/?q=%00")
    assert refused.status_code == 400
    assert refused.content.decode() == "The request contains a control character (such as %00)."
    chosen = Client()
    chosen.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    assert "control character" in chosen.get("/notices/?q=%00").content.decode()
    chinese = Client(HTTP_ACCEPT_LANGUAGE="zh-CN").get("/search/?q=%00").content.decode()
    assert chinese == "请求中含有不允许的控制字符（例如 %00），请检查输入的内容。"
