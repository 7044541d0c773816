"""WSGI entry point for gunicorn: public tiles on a short path (layers/tile_wsgi.py), every
other request through Django."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")
django_application = get_wsgi_application()

from layers.tile_wsgi import TileDispatcher  # noqa: E402  (needs the apps loaded above)

application = TileDispatcher(django_application)
