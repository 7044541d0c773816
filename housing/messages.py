"""The words of every message sent to residents, as templates a city can edit.

Code sends by a template code and values (`notify_household(household, "contract.signed",
number=…)`); the words come from housing.MessageTemplate, whose defaults ship in
data/message-templates.json. A saved template may use only the placeholders its code passes
(checked when it is edited), so a resident never receives "{name}": if a value is missing at
send time all the same, the shipped text is sent instead and the fault is logged.
"""

import json
import logging
import re
import string
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from pathlib import Path

from django.conf import settings

log = logging.getLogger(__name__)

SHIPPED_FILE = Path(settings.BASE_DIR) / "data" / "message-templates.json"
SIGN = "【安居】"
SMS_MAX = 300  # longer texts are cut here when sent
SEGMENT = 70  # one SMS; longer ones go out as several and cost more
SUBJECT_MAX = 100  # InboxMessage.subject
FIELD_LABELS = {"subject": "站内信标题", "body": "站内信内容", "sms": "短信内容"}
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


class TemplateError(ValueError):
    """A template that cannot be saved; the message names the field and the placeholder."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    sms: str


@dataclass(frozen=True)
class Template:
    """One template's words and rules, from the database or the shipped file."""

    code: str
    name: str
    purpose: str
    channel: str
    subject: str
    body: str
    sms: str
    placeholders: dict
    required: tuple = ()
    one_segment: bool = False

    def texts(self) -> dict[str, str]:
        return {"subject": self.subject, "body": self.body, "sms": self.sms}

    def samples(self) -> dict[str, object]:
        return {name: sample_value(spec.get("sample")) for name, spec in self.placeholders.items()}

    def format(self, **values: object) -> Message:
        """Fill the words; raises KeyError/ValueError when a value is missing or misfits."""
        strict = _Strict(values)
        return Message(**{k: v.format_map(strict) for k, v in self.texts().items()})

    def render(self, **values: object) -> Message:
        """The message to send: this template's words, or the shipped ones (logged) when a
        value it needs is missing, so no resident receives a bare placeholder."""
        try:
            return self.format(**values)
        except (KeyError, ValueError, IndexError, AttributeError, TypeError):
            default = shipped().get(self.code)
            if default is None or default.texts() == self.texts():
                raise
            log.exception("message template %s: falling back to the shipped text", self.code)
            return default.format(**values)


class _Strict(dict):
    def __missing__(self, key: str) -> object:
        raise KeyError(key)


def sample_value(sample: object) -> object:
    """The JSON sample as the value the code passes: dates, times and amounts typed."""
    if isinstance(sample, float):
        return Decimal(str(sample))
    if isinstance(sample, str) and _DATE.match(sample):
        return date.fromisoformat(sample)
    if isinstance(sample, str) and _DATETIME.match(sample):
        return datetime.fromisoformat(sample)
    return sample


@cache
def shipped() -> dict[str, Template]:
    """The defaults shipped with this release, by code (read once per process)."""
    data = json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))
    catalogue = data["placeholders"]
    return {
        entry["code"]: Template(
            code=entry["code"],
            name=entry["name"],
            purpose=entry.get("purpose", ""),
            channel=entry["channel"],
            subject=entry.get("subject", ""),
            body=entry.get("body", ""),
            sms=entry.get("sms", ""),
            placeholders={name: catalogue[name] for name in entry.get("placeholders", [])},
            required=tuple(entry.get("required", [])),
            one_segment=bool(entry.get("one_segment")),
        )
        for entry in data["templates"]
    }


def from_row(row) -> Template:
    return Template(
        code=row.code,
        name=row.name,
        purpose=row.purpose,
        channel=row.channel,
        subject=row.subject,
        body=row.body,
        sms=row.sms,
        placeholders=row.placeholders,
        required=tuple(row.required),
        one_segment=row.one_segment,
    )


def template(code: str) -> Template:
    """The template in force: the city's row, else the shipped default (a code added by a
    release before `sync_message_templates` ran). An unknown code is a programming error."""
    from housing.models import MessageTemplate

    row = MessageTemplate.objects.filter(code=code).first()
    if row is not None:
        return from_row(row)
    return shipped()[code]


def render(code: str, /, **values: object) -> Message:
    return template(code).render(**values)


def sms_text(code: str, /, **values: object) -> str:
    """The SMS of an SMS-only template (sign-in codes, identity, the choosing order)."""
    return render(code, **values).sms


# --- checking an edit ---------------------------------------------------------------------


def placeholders_in(text: str, field: str) -> list[tuple[str, str]]:
    """The placeholders a text uses, as (name, format); refuses braces that do not pair and
    placeholders that reach into a value ({a.b}, {a[0]}, {a!r})."""
    label = FIELD_LABELS.get(field, field)
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise TemplateError(
            f"{label}：花括号不成对。占位符写作 {{名称}}；要显示花括号本身请写 {{{{ 或 }}}}。",
            field,
        ) from exc
    names = []
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if conversion or not name.isidentifier() or "{" in (spec or ""):
            shown = "{" + name + (f"!{conversion}" if conversion else "") + "}"
            raise TemplateError(
                f"{label}：占位符 {shown} 写法不对，只能写 {{名称}} 或 {{名称:格式}}。", field
            )
        names.append((name, spec or ""))
    return names


def check(tpl: Template) -> list[str]:
    """Refuse (TemplateError) what would send a wrong text; return warnings worth showing
    (an SMS longer than one segment)."""
    allowed = set(tpl.placeholders)
    shown = "、".join(f"{{{n}}}" for n in tpl.placeholders) or "无"
    samples = tpl.samples()
    for field, text in tpl.texts().items():
        for name, spec in placeholders_in(text, field):
            if name not in allowed:
                raise TemplateError(
                    f"{FIELD_LABELS[field]}：占位符 {{{name}}} 不可用于此模板。"
                    f"可用的占位符：{shown}。",
                    field,
                )
            try:
                format(samples[name], spec)
            except (ValueError, TypeError) as exc:
                raise TemplateError(
                    f"{FIELD_LABELS[field]}：占位符 {{{name}:{spec}}} 的格式不适用于"
                    f"{tpl.placeholders[name].get('label', name)}（示例值 {samples[name]}）。",
                    field,
                ) from exc
    if tpl.channel == "inbox" and not tpl.subject.strip():
        raise TemplateError("站内信标题：请填写。", "subject")
    if tpl.channel == "sms" and not tpl.sms.strip():
        raise TemplateError("短信内容：请填写。", "sms")
    if tpl.sms.strip() and not tpl.sms.startswith(SIGN):
        raise TemplateError(f"短信内容：须以短信签名“{SIGN}”开头。", "sms")
    for name in tpl.required:
        if name not in {n for n, _spec in placeholders_in(tpl.sms, "sms")}:
            raise TemplateError(f"短信内容：须包含占位符 {{{name}}}。", "sms")
    sample = tpl.format(**samples)
    if len(sample.subject) > SUBJECT_MAX:
        raise TemplateError(
            f"站内信标题：按示例值为 {len(sample.subject)} 字，不得超过 {SUBJECT_MAX} 字。",
            "subject",
        )
    warnings = []
    length = len(sample.sms)
    if tpl.one_segment and length > SEGMENT:
        raise TemplateError(
            f"短信内容：验证码短信须在一条短信（{SEGMENT} 字）以内，按示例值为 {length} 字。",
            "sms",
        )
    if length > SMS_MAX:
        raise TemplateError(f"短信内容：按示例值为 {length} 字，不得超过 {SMS_MAX} 字。", "sms")
    if length > SEGMENT:
        warnings.append(
            f"短信按示例值为 {length} 字，超过 {SEGMENT} 字，将按 {-(-length // 67)} 条短信计费。"
        )
    return warnings


# --- loading the shipped defaults ---------------------------------------------------------


def sync(model=None) -> tuple[int, int]:
    """Create the templates a release adds and refresh the rules (placeholders, names) of the
    others; the words of a template the city changed are never touched, those it did not
    change follow the release. Returns (created, refreshed). The migration passes its
    historical model."""
    if model is None:
        from housing.models import MessageTemplate as model
    created = refreshed = 0
    existing = {row.code: row for row in model.objects.all()}
    for code, tpl in shipped().items():
        rules = {
            "name": tpl.name,
            "purpose": tpl.purpose,
            "channel": tpl.channel,
            "placeholders": tpl.placeholders,
            "required": list(tpl.required),
            "one_segment": tpl.one_segment,
        }
        row = existing.get(code)
        if row is None:
            model.objects.create(code=code, **rules, **tpl.texts())
            created += 1
            continue
        wanted = rules if row.customised else rules | tpl.texts()
        if any(getattr(row, k) != v for k, v in wanted.items()):
            for k, v in wanted.items():
                setattr(row, k, v)
            row.save()
            refreshed += 1
    return created, refreshed
