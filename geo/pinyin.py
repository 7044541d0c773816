"""Pinyin keys for search: full pinyin and initials, so 'xingfu' and 'xfjy' find 幸福家园."""

from pypinyin import lazy_pinyin


def pinyin_keys(text: str) -> tuple[str, str]:
    """(full pinyin without spaces, initials), lower case; other characters pass through."""
    syllables = lazy_pinyin(text, errors=lambda chars: list(chars))
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum()).lower()
    return full, initials
