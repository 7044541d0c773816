"""Numbers as people write them: 530 元 rather than 530.00 or 530.0, and 530.5 when it is."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def plain_number(value: object) -> object:
    """A Decimal or float without trailing zeros; anything else (text, None) unchanged."""
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        return value
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return value
    if not number.is_finite():
        return value
    text = f"{number:f}"
    return text.rstrip("0").rstrip(".") if "." in text else text
