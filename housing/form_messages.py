"""Error messages that name their field, for the resident's forms: Django's own ("该字段是必填项。")
do not say which field, and on a long form on a phone the resident cannot tell."""

import re

from django import forms
from django.forms.formsets import BaseFormSet
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

PICKED = (forms.ChoiceField, forms.ModelChoiceField)
NUMBERS = (forms.DecimalField, forms.FloatField)


def field_name(label) -> str:
    """The label without its explanation in brackets: “家庭月收入（元）” → 家庭月收入."""
    return re.sub(r"（[^）]*）|\([^)]*\)", "", str(label or "")).strip()


def _messages(field: forms.Field) -> dict[str, str]:
    if isinstance(field.widget, forms.HiddenInput) or not field.label:
        expired = gettext("页面已过期，请刷新后重试。")
        return {"required": expired, "invalid": expired, "invalid_choice": expired}
    if isinstance(field, forms.BooleanField):
        required = gettext("请勾选“{name}”。")
    elif isinstance(field, PICKED):
        required = gettext("请选择“{name}”。")
    else:
        required = gettext("请填写“{name}”。")
    if isinstance(field, NUMBERS):  # before IntegerField, of which DecimalField is a kind
        invalid = gettext("“{name}”请填写数字，不带单位或逗号。")
    elif isinstance(field, forms.IntegerField):
        invalid = gettext("“{name}”请填写整数，只填数字。")
    else:
        invalid = gettext("“{name}”的格式不正确，请核对后重新填写。")
    choice = gettext("所选“{name}”不在可选范围内，请重新选择。")
    texts = {
        "required": required,
        "invalid": invalid,
        "invalid_choice": choice,
        "invalid_list": choice,
        "invalid_pk_value": choice,
        "min_value": gettext("“{name}”不能小于 %(limit_value)s。"),
        "max_value": gettext("“{name}”不能大于 %(limit_value)s。"),
        "min_length": gettext("“{name}”至少 %(limit_value)d 个字（现在 %(show_value)d 个）。"),
        "max_length": gettext("“{name}”最多 %(limit_value)d 个字（现在 %(show_value)d 个）。"),
        "max_digits": gettext("“{name}”的数字太长：最多 %(max)s 位数字。"),
        "max_decimal_places": gettext("“{name}”最多保留 %(max)s 位小数。"),
        "max_whole_digits": gettext("“{name}”的整数部分最多 %(max)s 位。"),
        "step_size": gettext("“{name}”须为 %(limit_value)s 的整数倍。"),
    }
    name = field_name(field.label)
    return {code: text.replace("{name}", name) for code, text in texts.items()}


def _defaults(field: forms.Field) -> dict:
    defaults: dict = {}
    for cls in reversed(type(field).__mro__):
        defaults.update(getattr(cls, "default_error_messages", {}))
    return defaults


def name_the_fields(form: forms.BaseForm) -> None:
    """Give every field messages that name it; a message a form sets itself stays."""
    for field in form.fields.values():
        defaults = _defaults(field)
        for code, text in _messages(field).items():
            current = field.error_messages.get(code)
            if current is None or current is defaults.get(code):
                field.error_messages[code] = text


class NamedErrors:
    """Form mixin: errors in the active language that say which field and how to fix it."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        name_the_fields(self)


class HouseholdRows(BaseFormSet):
    """The household table: its own errors in words a resident understands."""

    default_error_messages = {
        "missing_management_form": _(
            "“家庭成员”表格的数据不完整（页面可能已过期）：请刷新页面，重新填写家庭成员。"
        ),
        "too_many_forms": _("“家庭成员”最多填写 %(num)d 人。"),
        "too_few_forms": _("“家庭成员”至少填写 %(num)d 人。"),
    }
