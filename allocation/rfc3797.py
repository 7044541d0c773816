"""RFC 3797 (publicly verifiable NomCom random selection), used to order a housing lottery.

Anyone holding the committed participant list and the published random numbers can replay the
draw: the order follows from them alone, so nobody can steer it once the list is committed.

The algorithm, as the RFC's reference code and its §6 worked example have it:

* key string: for each source in the agreed order, its values sorted ascending, each written in
  decimal without leading zeros and followed by ".", the source closed by "/"
  (the §6 example: ``9319./2.5.8.10.12./9.18.26.34.41.45./``);
* selection i (counting from 0): MD5 of the 2-byte big-endian i, the key string's ASCII bytes and
  the same 2 bytes again; the 16-byte digest read as a big-endian unsigned integer, modulo the
  number of items not yet drawn, picks (0-based) that position among the remaining items in their
  committed order; that item is drawn and removed. (The RFC's table numbers rows from 1 and adds 1
  to the remainder; the hashed counter still starts at 0x0000.)

Only non-negative integers are accepted as random values (the RFC's "float" and text forms are
not supported), and at most 65535 items, the pool limit of the RFC's reference code: the counter
is two bytes wide.
"""

import hashlib

MAX_ITEMS = 0xFFFF


def key_string(seeds: list[list[int]]) -> str:
    """The RFC 3797 key string of the random sources, in the order given.

    Raises ValueError, naming the source (counted from 1), for an empty source or a value that
    is not a non-negative integer, and when there is no source at all.
    """
    if not isinstance(seeds, list | tuple) or not seeds:
        raise ValueError("至少需要一组随机数")
    parts = []
    for number, source in enumerate(seeds, start=1):
        where = f"第 {number} 组随机数"
        if not isinstance(source, list | tuple):
            raise ValueError(f"{where}：应为整数列表，收到 {source!r}")
        if not source:
            raise ValueError(f"{where}：不能为空")
        for value in source:
            # bool is an int in Python, but True is not a lottery number.
            if isinstance(value, bool) or not isinstance(value, int):
                raise ValueError(f"{where}：{value!r} 不是整数")
            if value < 0:
                raise ValueError(f"{where}：{value} 是负数，只接受非负整数")
        parts.append("".join(f"{value}." for value in sorted(source)) + "/")
    return "".join(parts)


def index_digest(key: str, index: int) -> bytes:
    """MD5 of the key string between two copies of the 2-byte big-endian selection index."""
    counter = index.to_bytes(2, "big")
    return hashlib.md5(counter + key.encode("ascii") + counter).digest()


def selection_indices(n: int, key: str) -> list[int]:
    """Positions (0-based, in the committed order) of all n items, in the order drawn."""
    if n < 0 or n > MAX_ITEMS:
        raise ValueError(f"参与抽签的数量须在 0 到 {MAX_ITEMS} 之间，收到 {n}")
    remaining = list(range(n))
    drawn = []
    for index in range(n):
        value = int.from_bytes(index_digest(key, index), "big")
        drawn.append(remaining.pop(value % len(remaining)))
    return drawn


def draw_order(items: list[str], seeds: list[list[int]]) -> list[str]:
    """Every item in the order drawn (first drawn first); items are taken in committed order."""
    seen = set()
    for item in items:
        if item in seen:
            raise ValueError(f"参与者重复：{item!r}")
        seen.add(item)
    key = key_string(seeds)
    return [items[position] for position in selection_indices(len(items), key)]


def participants_hash(participants: list[str]) -> str:
    """SHA-256 (hex) of the participant keys joined by "\\n" as UTF-8, no trailing newline."""
    return hashlib.sha256("\n".join(participants).encode("utf-8")).hexdigest()
