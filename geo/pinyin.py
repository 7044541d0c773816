"""Pinyin keys for search, word by word: 'anju' and 'ajxc' find 安居新村, and 'tangling' or
'tljd' find the estates whose address lies in 汤陵街道, as 汤陵 does."""

import re

# An address read as words, each ending in an administrative or road suffix (谯城区 汤陵街道
# 康宁路 48号), so a place typed in pinyin or initials can match from the start of a word.
_ADDRESS_WORD = re.compile(r".+?(?:街道|社区|大道|省|市|区|县|镇|乡|路|街|巷|弄|号|村)|.+")


def pinyin_keys(text: str) -> tuple[str, str]:
    """(full pinyin without spaces, initials), lower case; other characters pass through.
    pypinyin (its dictionaries weigh tens of MB) loads on first use, not in every web worker."""
    from pypinyin import lazy_pinyin

    syllables = lazy_pinyin(text, errors=lambda chars: list(chars))
    full = "".join(syllables).lower()
    initials = "".join(s[0] for s in syllables if s and s[0].isalnum()).lower()
    return full, initials


def address_words(address: str) -> list[str]:
    return [word for chunk in address.split() for word in _ADDRESS_WORD.findall(chunk)]


def search_keys(name: str, address: str = "") -> tuple[str, str]:
    """(pinyin, initials) of a name followed by its address, one space-separated word each:
    the name comes first, so "starts with" still means "the name starts with"."""
    words = ["".join(name.split()), *address_words(address)]
    keys = [pinyin_keys(word) for word in words if word]
    return " ".join(k[0] for k in keys), " ".join(k[1] for k in keys if k[1])
