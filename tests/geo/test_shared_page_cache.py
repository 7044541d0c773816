"""Public pages are cached in files every worker shares (settings.CACHES, layers/public_cache.py):
a page one worker rendered is a hit for another process, a stock change is visible at once, and
signed-in visitors' pages are never stored."""

import pytest
from django.conf import settings
from django.core.cache import cache, caches
from django.core.cache.backends.filebased import FileBasedCache

from geo.models import Unit
from portal import maps

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def cold_caches():
    cache.clear()
    maps.forget()


def another_worker() -> FileBasedCache:
    """A cache opened afresh from the settings, as another gunicorn worker holds it."""
    other = caches.create_connection("default")
    assert isinstance(other, FileBasedCache)
    return other


def stored_page(etag: str):
    return another_worker().get(f"public-page:{etag.strip(chr(34))}")


def test_a_page_rendered_once_is_a_hit_for_every_worker(client):
    assert settings.CACHES["default"]["BACKEND"].endswith("FileBasedCache")
    response = client.get("/")
    hit = stored_page(response["ETag"])
    assert hit is not None
    content_type, body = hit
    assert content_type.startswith("text/html") and b'id="map_city"' in body


def test_a_stock_change_is_served_at_once(client):
    url = "/units/?rooms=2"
    first = client.get(url)
    unit = Unit.objects.filter(status="vacant", rooms=2).first()
    Unit.objects.filter(pk=unit.pk).update(status="repair")
    second = client.get(url)
    assert second["ETag"] != first["ETag"]
    assert stored_page(second["ETag"]) is not None


def test_signed_in_visitors_bypass_the_shared_cache(client, django_user_model):
    user = django_user_model.objects.create_user("shared-cache-visitor", password="x-9-horse")
    client.force_login(user)
    response = client.get("/")
    assert response["Cache-Control"].startswith("private")
    assert not response.has_header("ETag")
    assert another_worker()._list_cache_files() == []
