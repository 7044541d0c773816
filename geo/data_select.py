"""A drop-down of data (place names): it says the data's language, so an English page still
has screen readers pronounce 谯城区 as Chinese and tells translators to leave it."""

from django import forms
from django.utils.translation import get_language

# The language the city's own data (region, estate and street names) is written in.
DATA_LANG = "zh-Hans"


class DataSelect(forms.Select):
    """The <select> is in the data's language; its empty choice ("all …") in the page's."""

    def __init__(self, attrs: dict | None = None, choices=()) -> None:
        super().__init__({"lang": DATA_LANG, **(attrs or {})}, choices)

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        if value in ("", None):
            option["attrs"]["lang"] = get_language()
        return option
