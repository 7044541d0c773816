"""WSGI entry point for gunicorn: public tiles on a short path (layers/tile_wsgi.py), every
other request through Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_application = get_wsgi_application()

from contextlib import nullcontext  # noqa: E402

from anju.db_router import public_reads  # noqa: E402  (these need the apps loaded above)
from layers.tile_wsgi import TileDispatcher  # noqa: E402
from portal.db_routing import reads_replica  # noqa: E402


def _tile_reads(request):
    """The replica for the tiles the routing middleware would send there (anonymous GETs)."""
    return public_reads() if reads_replica(request) else nullcontext()


application = TileDispatcher(django_application, reads=_tile_reads)
