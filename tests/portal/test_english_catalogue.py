"""The English catalogue is complete: every string the code marks for translation (Python,
templates, our JavaScript) has an English msgstr, none is fuzzy, and the compiled .mo that the
site reads is the one the .po makes. A new Chinese string fails here until it is translated."""

import gettext
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
MESSAGES = ROOT / "locale" / "en" / "LC_MESSAGES"
# What `makemessages` reads, per domain, as the catalogue's header (locale/en/...po) says.
NOT_SOURCE = {".venv", "node_modules", "staticfiles", "media", "tests", "locale", ".git", ".local"}
NOT_SOURCE |= {"__pycache__", ".hypothesis", ".pytest_cache", ".ruff_cache"}
DOMAINS = {"django": [], "djangojs": ["-d", "djangojs"]}


def catalogue(mo: Path) -> dict:
    """msgid (with its context, the singular for plurals) → translation, as Django reads it."""
    with mo.open("rb") as f:
        entries = gettext.GNUTranslations(f)._catalog  # the parsed .mo
    return {(k[0] if isinstance(k, tuple) else k): v for k, v in entries.items() if k}


def compile_po(po: Path, mo: Path) -> dict:
    done = subprocess.run(["msgfmt", "--check", "-o", str(mo), str(po)], capture_output=True)
    assert done.returncode == 0, done.stderr.decode()
    return catalogue(mo)


@pytest.fixture(scope="module")
def source_msgids(tmp_path_factory) -> dict[str, set[str]]:
    """Every msgid in the code now, per domain: makemessages run on a copy of the source, so
    the real catalogue is left as it is."""
    copy = tmp_path_factory.mktemp("source") / "anju"
    shutil.copytree(ROOT, copy, ignore=lambda d, names: [n for n in names if n in NOT_SOURCE])
    (copy / "locale" / "en" / "LC_MESSAGES").mkdir(parents=True)
    found = {}
    for domain, args in DOMAINS.items():
        subprocess.run(
            [sys.executable, "manage.py", "makemessages", "-l", "en", *args, "-v", "0"],
            cwd=copy,
            env={**os.environ, "PYTHONPATH": str(copy)},
            check=True,
        )
        po = copy / "locale" / "en" / "LC_MESSAGES" / f"{domain}.po"
        if not po.exists():  # nothing marked in this domain
            found[domain] = set()
            continue
        # msgen copies each msgid into its msgstr, so the compiled file lists every msgid.
        subprocess.run(["msgen", "-o", str(po), str(po)], check=True)
        found[domain] = set(compile_po(po, po.with_suffix(".mo")))
    return found


@pytest.mark.parametrize("domain", DOMAINS)
def test_every_marked_string_has_an_english_translation(domain, source_msgids, tmp_path):
    po = MESSAGES / f"{domain}.po"
    translated = compile_po(po, tmp_path / f"{domain}.mo")  # empty and fuzzy ones are left out
    missing = sorted(source_msgids[domain] - set(translated))
    assert not missing, (
        f"{len(missing)} strings have no English in {po.relative_to(ROOT)}; run "
        f"`manage.py makemessages -l en{' -d djangojs' if domain != 'django' else ''}` and "
        "translate them:\n" + "\n".join(missing)
    )
    fuzzy = re.findall(r"^#, .*fuzzy", po.read_text(), flags=re.M)
    assert not fuzzy, f"{len(fuzzy)} fuzzy entries in {po.name}: check and unmark them"


@pytest.mark.parametrize("domain", DOMAINS)
def test_the_site_reads_the_catalogue_the_po_makes(domain, tmp_path):
    mo = MESSAGES / f"{domain}.mo"
    assert mo.exists(), f"{mo.relative_to(ROOT)} is missing: run `make messages`"
    expected = compile_po(MESSAGES / f"{domain}.po", tmp_path / f"{domain}.mo")
    assert catalogue(mo) == expected, f"{mo.name} is older than its .po: run `make messages`"
