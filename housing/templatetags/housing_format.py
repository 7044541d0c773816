"""Numbers as a resident reads them: 2000 not 2000.00, 0 not 0.00, 1.5 not 1.50."""

from decimal import Decimal, InvalidOperation

from django import template

register = template.Library()


@register.filter
def plain_number(value) -> str:
    """Without trailing zeros (nor an exponent); text that is no number stays as it is."""
    if value is None or value == "":
        return ""
    try:
        number = Decimal(str(value)).normalize()
    except InvalidOperation:
        return str(value)
    if not number.is_finite():
        return str(value)
    if number.is_zero():
        return "0"
    if number == number.to_integral_value():
        number = number.quantize(Decimal(1))
    return f"{number:f}"
