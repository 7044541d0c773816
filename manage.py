#!/usr/bin/env python
"""Django's command-line utility for Anju.

In a development checkout (`make` wrote .local/dev.env), commands typed by hand get the same
settings as `make` gives them: debug on, the local secret key, the local database as its owner.
Anything already in the environment wins.
"""

import os
import sys
from pathlib import Path

DEV_ENV = Path(__file__).resolve().parent / ".local" / "dev.env"


def development_defaults() -> None:
    if not DEV_ENV.exists():
        return
    for line in DEV_ENV.read_text(encoding="utf-8").splitlines():
        name, sep, value = line.partition("=")
        if sep and name.strip() and value.strip():
            os.environ.setdefault(name.strip(), value.strip())


def main() -> None:
    development_defaults()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
