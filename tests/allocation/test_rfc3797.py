"""RFC 3797 lottery order: the RFC's own worked example, properties, bad input, the replay script.

No database: these tests need neither Django fixtures nor a running service.
"""

import hashlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from allocation.rfc3797 import (
    MAX_ITEMS,
    draw_order,
    index_digest,
    key_string,
    participants_hash,
    selection_indices,
)

REPLAY = Path(__file__).resolve().parents[2] / "static" / "allocation" / "replay_lottery.py"

# RFC 3797 §6 "Fully Worked Example": the 25 volunteers in their published order, the three
# hypothetical random sources (a single number, five numbers, six numbers) and the key string.
RFC_NAMES = [
    "John", "Mary", "Bashful", "Dopey", "Sleepy",
    "Grouchy", "Doc", "Sneazy", "Handsome", "Cassandra",
    "Pollyanna", "Pendragon", "Pandora", "Faith", "Hope",
    "Charity", "Lee", "Longsuffering", "Chastity", "Smith",
    "Pride", "Sloth", "Envy", "Anger", "Kasczynski",
]  # fmt: skip
RFC_SEEDS = [[9319], [2, 5, 12, 8, 10], [9, 18, 26, 34, 41, 45]]
RFC_KEY = "9319./2.5.8.10.12./9.18.26.34.41.45./"

# RFC 3797 §6 table: "index / hex value of MD5 / div / selected" for its 16 rows, as reproduced
# in richsalz/ietf-rfc3797-code (ref.results) and the Algorithm::Voting::Sortition tests. The
# row index counts from 1, the hashed two-byte counter from 0x0000; "selected" counts from 1.
RFC_TABLE = [
    ("990DD0A5692A029A98B5E01AA28F3459", 25, 17),
    ("3691E55CB63FCC37914430B2F70B5EC6", 24, 7),
    ("FE814EDF564C190AC1D25753979990FA", 23, 2),
    ("1863CCACEB568C31D7DDBDF1D4E91387", 22, 16),
    ("F4AB33DF4889F0AF29C513905BE1D758", 21, 25),
    ("13EAEB529F61ACFB9A29D0BA3A60DE4A", 20, 23),
    ("992DB77C382CA2BDB9727001F3CDCCD9", 19, 8),
    ("63AB4258ECA922976811C7F55C383CE7", 18, 24),
    ("DFBC5AC97CED01B3A6E348E3CC63F40D", 17, 19),
    ("31CB111C4A4EBE9287CEAE16FE51B909", 16, 13),
    ("07FA46C122F164C215BBC72793B189A3", 15, 22),
    ("AC52F8D75CCBE2E61AFEB3387637D501", 14, 5),
    ("53306F73E14FC0B2FBF434218D25948E", 13, 18),
    ("B5D1403501A81F9A47318BE7893B347C", 12, 9),
    ("85B10B356AA06663EF1B1B407765100A", 11, 1),
    ("3269E6CE559ABD57E2BA6AAB495EB9BD", 10, 4),
]
# The names the RFC gives for its first eleven rows (the first ten are also in other ports' tests).
RFC_FIRST_ELEVEN = [
    "Lee", "Doc", "Mary", "Charity", "Kasczynski",
    "Envy", "Sneazy", "Anger", "Chastity", "Pandora", "Sloth",
]  # fmt: skip
# The RFC stops at 16 rows. Rows 17 to 25 come from the RFC's reference C code run on the same
# input with a pool of 25 and 25 selections (its first 16 rows agree with the RFC's table).
FULL_ORDER_NUMBERS = [r[2] for r in RFC_TABLE] + [12, 15, 20, 14, 11, 3, 6, 21, 10]

non_negative = st.integers(min_value=0, max_value=10**12)
sources = st.lists(st.lists(non_negative, min_size=1, max_size=8), min_size=1, max_size=5)
keys = st.text(st.characters(codec="utf-8"), min_size=1, max_size=40)


# --- The RFC's worked example ------------------------------------------------------------------


def test_rfc_example_key_string():
    assert key_string(RFC_SEEDS) == RFC_KEY


def test_rfc_example_digests():
    for index, (hex_digest, _, _) in enumerate(RFC_TABLE):
        assert index_digest(RFC_KEY, index).hex().upper() == hex_digest


def test_rfc_example_table_rows():
    drawn = selection_indices(25, RFC_KEY)
    assert [position + 1 for position in drawn[:16]] == [row[2] for row in RFC_TABLE]


def test_rfc_example_names_and_full_order():
    order = draw_order(RFC_NAMES, RFC_SEEDS)
    assert order[:11] == RFC_FIRST_ELEVEN
    assert order == [RFC_NAMES[number - 1] for number in FULL_ORDER_NUMBERS]


def test_rfc_example_with_numbered_candidates():
    numbered = [str(number) for number in range(1, 26)]
    assert draw_order(numbered, RFC_SEEDS) == [str(n) for n in FULL_ORDER_NUMBERS]


# --- Key string --------------------------------------------------------------------------------


def test_key_string_sorts_each_source_and_writes_plain_decimals():
    assert key_string([[10, 2, 0], [7]]) == "0.2.10./7./"
    assert key_string([[1, 1, 1]]) == "1.1.1./"  # repeated values stay, as in the reference code


@pytest.mark.parametrize(
    ("seeds", "where"),
    [
        ([[1, 2], []], "第 2 组随机数"),
        ([[-3]], "第 1 组随机数"),
        ([[1], [2], [4, -1]], "第 3 组随机数"),
        ([[1], [2.5]], "第 2 组随机数"),
        ([[1], ["7"]], "第 2 组随机数"),
        ([[True]], "第 1 组随机数"),
        ([[1], 5], "第 2 组随机数"),
    ],
)
def test_bad_seeds_name_the_source(seeds, where):
    with pytest.raises(ValueError, match=where):
        key_string(seeds)
    with pytest.raises(ValueError, match=where):
        draw_order(["a", "b"], seeds)


def test_no_seeds_at_all():
    with pytest.raises(ValueError, match="至少需要一组随机数"):
        key_string([])


# --- Order -------------------------------------------------------------------------------------


def test_empty_list_draws_nothing():
    assert draw_order([], RFC_SEEDS) == []


def test_duplicates_are_refused():
    with pytest.raises(ValueError, match="重复"):
        draw_order(["a", "b", "a"], RFC_SEEDS)


def test_more_items_than_a_two_byte_counter_allows():
    with pytest.raises(ValueError):
        selection_indices(MAX_ITEMS + 1, RFC_KEY)


@settings(deadline=None)
@given(items=st.lists(keys, unique=True, max_size=60), seeds=sources)
def test_order_is_a_permutation_and_repeatable(items, seeds):
    order = draw_order(items, seeds)
    assert sorted(order) == sorted(items)
    assert len(order) == len(items)
    assert draw_order(list(items), [list(source) for source in seeds]) == order


@settings(deadline=None)
@given(items=st.lists(keys, unique=True, max_size=30), seeds=sources, data=st.data())
def test_order_within_a_source_does_not_matter(items, seeds, data):
    shuffled = [data.draw(st.permutations(source)) for source in seeds]
    assert draw_order(items, shuffled) == draw_order(items, seeds)


@settings(deadline=None)
@given(items=st.lists(keys, unique=True, min_size=20, max_size=60), seeds=sources, data=st.data())
def test_changing_one_seed_value_changes_the_order(items, seeds, data):
    source = data.draw(st.integers(0, len(seeds) - 1))
    position = data.draw(st.integers(0, len(seeds[source]) - 1))
    old = seeds[source][position]
    new = data.draw(non_negative.filter(lambda value: value != old))
    changed = [list(values) for values in seeds]
    changed[source][position] = new
    # A different multiset in one source always gives a different key string ...
    assert key_string(changed) != key_string(seeds)
    # ... and with at least 20 items two keys give the same permutation with chance 1/20!
    # (about 4e-19) if MD5 behaves like a random function: not a flaky assertion.
    assert draw_order(items, changed) != draw_order(items, seeds)


def test_participants_hash_definition():
    # SHA-256 of the keys joined by "\n" as UTF-8, with no trailing newline.
    assert participants_hash(["a", "b"]) == (
        "7e18f737311b2dc3b2f269dd78396b0351f14fb66efa879f768cb23181883c78"
    )
    assert participants_hash(["公租房-001", "B2"]) == (
        "cf2da18327aa55315c7814947daf1bcfbcc0dea0216c103d54c905447c9aab66"
    )
    assert participants_hash(["a", "b"]) == hashlib.sha256(b"a\nb").hexdigest()
    assert participants_hash(["b", "a"]) != participants_hash(["a", "b"])


# --- The standalone replay script --------------------------------------------------------------


def lottery(participants, seeds):
    return {
        "participants": participants,
        "seeds": seeds,
        "order": draw_order(participants, seeds),
        "algorithm": "RFC3797",
        "participants_sha256": participants_hash(participants),
    }


def replay(tmp_path, content, stdin=False):
    path = tmp_path / "lottery.json"
    path.write_text(json.dumps(content, ensure_ascii=False), encoding="utf-8")
    return subprocess.run(
        [sys.executable, str(REPLAY), "-" if stdin else str(path)],
        input=path.read_bytes() if stdin else None,
        capture_output=True,
        cwd=tmp_path,  # away from the project: the script must stand alone
        timeout=60,
        check=False,
    )


@pytest.fixture
def published():
    prefixes = ["P", "安居", "Ö"]
    participants = [
        f"{prefixes[number % 3]}{number:05d}-{number * 7919 % 10007:04x}" for number in range(1, 41)
    ]
    return lottery(participants, [[20250317], [3, 11, 17, 24, 30, 33], [7]])


def test_replay_matches(tmp_path, published):
    result = replay(tmp_path, published)
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, out
    assert "一致 (MATCH)" in out
    assert key_string(published["seeds"]) in out
    printed = [m.group(1) for m in re.finditer(r"^ *\d+\. (.*)$", out, flags=re.MULTILINE)]
    assert printed == published["order"]


def test_replay_reads_stdin(tmp_path, published):
    result = replay(tmp_path, published, stdin=True)
    assert result.returncode == 0
    assert "一致 (MATCH)" in result.stdout.decode("utf-8")


def test_replay_catches_a_changed_participant(tmp_path, published):
    published["participants"][5] = published["participants"][5] + "x"
    result = replay(tmp_path, published)
    out = result.stdout.decode("utf-8")
    assert result.returncode == 1
    assert "participants_sha256" in out
    assert "一致 (MATCH)" not in out


def test_replay_catches_a_changed_order(tmp_path, published):
    order = published["order"]
    order[3], order[4] = order[4], order[3]
    result = replay(tmp_path, published)
    out = result.stdout.decode("utf-8")
    assert result.returncode == 1
    assert "第 4 位" in out


def test_replay_catches_a_changed_seed(tmp_path, published):
    published["seeds"][1][0] += 1
    assert replay(tmp_path, published).returncode == 1


def test_replay_catches_a_shortened_order(tmp_path, published):
    published["order"].pop()
    assert replay(tmp_path, published).returncode == 1


def test_replay_refuses_another_algorithm(tmp_path, published):
    published["algorithm"] = "Fisher-Yates"
    result = replay(tmp_path, published)
    assert result.returncode == 1
    assert "RFC3797" in result.stdout.decode("utf-8")


def test_replay_refuses_bad_seeds(tmp_path, published):
    published["seeds"] = [[1], [-2]]
    result = replay(tmp_path, published)
    assert result.returncode == 1
    assert "第 2 组随机数" in result.stdout.decode("utf-8")


def test_replay_reproduces_the_rfc_example(tmp_path):
    # Built by hand from the RFC, not by the project's module.
    content = {
        "participants": RFC_NAMES,
        "seeds": RFC_SEEDS,
        "order": [RFC_NAMES[number - 1] for number in FULL_ORDER_NUMBERS],
        "algorithm": "RFC3797",
        "participants_sha256": hashlib.sha256("\n".join(RFC_NAMES).encode("utf-8")).hexdigest(),
    }
    result = replay(tmp_path, content)
    out = result.stdout.decode("utf-8")
    assert result.returncode == 0, out
    assert RFC_KEY in out
    assert "一致 (MATCH)" in out
