"""A web worker stays small: loading the URLconf (what every gunicorn worker does) must not
import the heavy libraries, which belong inside the functions that use them."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = [
    "pandas",
    "geopandas",
    "pyogrio",
    "openpyxl",
    "folium",
    "weasyprint",
    "pypinyin",
    "pyhanko",
    "shapely",
]

PROBE = """
import json, os, sys
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
import django
django.setup()
%s
from django.urls import get_resolver
get_resolver().url_patterns  # imports every view module, as the first request does
import portal.wsgi  # noqa: F401  what gunicorn loads
print(json.dumps(sorted(m for m in sys.modules if m.split(".")[0] in %r)))
"""


def heavy_modules_loaded(prelude: str = "") -> set[str]:
    """The heavy top-level packages in sys.modules of a fresh interpreter that loaded the
    URLconf (after running `prelude`)."""
    result = subprocess.run(
        [sys.executable, "-c", PROBE % (prelude, HEAVY)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return {m.split(".")[0] for m in json.loads(result.stdout.strip().splitlines()[-1])}


def test_loading_the_urlconf_imports_no_heavy_library():
    loaded = heavy_modules_loaded()
    assert loaded == set(), (
        f"imported at start by the URLconf: {sorted(loaded)}; "
        "import them inside the function that uses them"
    )


def test_the_probe_sees_a_heavy_import():
    """The check itself can fail: a module imported at start shows up."""
    assert heavy_modules_loaded("import openpyxl") == {"openpyxl"}
