"""A county's lease template filled with one contract's values and rendered to PDF by
WeasyPrint with a Chinese font from Debian (fonts-wqy-microhei).

Templates are staff-written HTML with {{ placeholders }} only: they run in a bare template
engine (no tags libraries, no objects, just strings), and a placeholder that is not provided is
an error naming it, found before any PDF exists.
"""

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

from django.template import Context, Engine, TemplateSyntaxError
from django.template.loader import render_to_string

from archive.pdf_resources import inline_only

MISSING = "\x00missing:%s\x00"
STYLE = Path(__file__).with_name("contract_pdf.css")
PLACEHOLDERS = {
    "contract_number": "合同编号",
    "lessor": "出租人（甲方）",
    "tenant_name": "承租人（乙方）姓名",
    "tenant_id_number": "承租人身份证号",
    "tenant_phone": "承租人电话",
    "household_size": "家庭人口",
    "unit_address": "房屋坐落",
    "unit_area": "建筑面积（㎡）",
    "unit_layout": "户型",
    "monthly_rent": "月租金（元）",
    "monthly_subsidy": "月租金补贴（元）",
    "tenant_rent": "承租人每月实缴（元）",
    "deposit": "押金（元）",
    "start_date": "租期开始",
    "end_date": "租期结束",
    "term_months": "租期（月）",
    "due_day": "每月缴费截止日",
    "clauses": "补充条款",
}
_ENGINE = Engine(builtins=["django.template.defaultfilters"], string_if_invalid=MISSING)


class ContractDataError(ValueError):
    """Missing or wrong contract data, named in Chinese, found before rendering."""


# What a lease's text may be made of: layout, no resources, no scripts, no links. WeasyPrint
# would fetch (and even embed) whatever a <link>, <img> or url() names.
ALLOWED_TAGS = frozenset(
    [
        "p",
        "br",
        "hr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "table",
        "caption",
        "colgroup",
        "col",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "th",
        "td",
        "ol",
        "ul",
        "li",
        "dl",
        "dt",
        "dd",
        "strong",
        "b",
        "em",
        "i",
        "u",
        "s",
        "small",
        "sub",
        "sup",
        "span",
        "div",
        "section",
        "blockquote",
    ]
)
ALLOWED_ATTRIBUTES = frozenset({"class", "colspan", "rowspan", "style", "align"})


class _Markup(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag not in ALLOWED_TAGS:
            self.problems.append(f"<{tag}> 标签")
            return
        for name, value in attrs:
            if name not in ALLOWED_ATTRIBUTES:
                self.problems.append(f"<{tag}> 的 {name} 属性")
            elif name == "style" and re.search(r"url\s*\(|@import|expression", value or "", re.I):
                self.problems.append(f"<{tag}> 的样式中的外部资源")

    handle_startendtag = handle_starttag

    def handle_comment(self, data: str) -> None:
        pass


def check_markup(body: str) -> None:
    """Refuse a lease text that names a resource, a script or a link, naming the first ones."""
    parser = _Markup()
    parser.feed(body)
    parser.close()
    if parser.problems:
        found = "、".join(dict.fromkeys(parser.problems[:5]))
        raise ContractDataError(
            f"合同范本不能使用{found}：正文只能用排版标签（p、h1–h6、table、ol、ul、strong 等），"
            "不能引用图片、样式表、脚本或链接。"
        )


@dataclass(frozen=True)
class Confirmation:
    """The tenant's confirmation and the approval, printed on the signed copy's last page."""

    tenant: str
    phone: str
    confirmed_at: str
    method: str
    draft_sha256: str
    approved_by: str
    approved_at: str


def money(value: Decimal) -> str:
    return f"{value:,.2f}"


def fill(body: str, values: dict[str, str]) -> str:
    """The template's body with the contract's values; every gap is named."""
    check_markup(body)
    empty = [PLACEHOLDERS.get(k, k) for k, v in values.items() if k != "clauses" and not v]
    if empty:
        raise ContractDataError(f"合同信息不完整：{'、'.join(empty)}为空。")
    try:
        html = _ENGINE.from_string(body).render(Context(values, autoescape=True))
    except TemplateSyntaxError as exc:
        raise ContractDataError(f"合同范本有语法错误：{exc}") from exc
    if "\x00missing:" in html:
        names = sorted({part.split("\x00")[0] for part in html.split("\x00missing:")[1:]})
        known = "、".join(f"{{{{ {k} }}}}" for k in PLACEHOLDERS)
        raise ContractDataError(
            f"合同范本使用了未知的占位符：{'、'.join(names)}。可用的占位符：{known}"
        )
    return html


def render_pdf(
    *, title: str, body_html: str, number: str, confirmation: Confirmation | None = None
) -> bytes:
    """The lease as PDF/A-like A4 pages; the signed copy adds the signing record page."""
    page = render_to_string(
        "tenancy/contract_pdf.html",
        {"title": title, "body": body_html, "number": number, "confirmation": confirmation},
    )
    from weasyprint import CSS, HTML  # heavy: loaded by the request that prints, not at start

    return HTML(string=page, url_fetcher=inline_only()).write_pdf(stylesheets=[CSS(filename=STYLE)])


def values_for(
    *,
    number: str,
    lessor: str,
    tenant_name: str,
    tenant_id_number: str,
    tenant_phone: str,
    household_size: int,
    unit_address: str,
    unit_area: Decimal,
    unit_layout: str,
    monthly_rent: Decimal,
    monthly_subsidy: Decimal,
    deposit: Decimal,
    start_date: date,
    end_date: date,
    term_months: int,
    due_day: int,
    clauses: str,
) -> dict[str, str]:
    """Every placeholder as display text (amounts with two decimals, dates in Chinese)."""
    return {
        "contract_number": number,
        "lessor": lessor,
        "tenant_name": tenant_name,
        "tenant_id_number": tenant_id_number,
        "tenant_phone": tenant_phone,
        "household_size": str(household_size),
        "unit_address": unit_address,
        "unit_area": f"{unit_area:.2f}",
        "unit_layout": unit_layout,
        "monthly_rent": money(monthly_rent),
        "monthly_subsidy": money(monthly_subsidy),
        "tenant_rent": money(monthly_rent - monthly_subsidy),
        "deposit": money(deposit),
        "start_date": f"{start_date.year}年{start_date.month}月{start_date.day}日",
        "end_date": f"{end_date.year}年{end_date.month}月{end_date.day}日",
        "term_months": str(term_months),
        "due_day": str(due_day),
        "clauses": clauses,
    }
