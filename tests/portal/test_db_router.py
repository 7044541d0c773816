"""The read-replica router on two real databases: the demo city's test database as the primary
and a second, migrated-only test database as the `replica`. An estate that exists only in the
replica shows to an anonymous visitor and to nobody else, which proves where each read went."""

import itertools

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.gis.geos import MultiPolygon, Point, Polygon
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, connections, transaction
from django.test.utils import CaptureQueriesContext

from anju.db_router import REPLICA, public_reads, read_alias, read_connection
from geo.models import Estate, Region
from portal import wsgi
from portal.db_routing import PIN_COOKIE
from tests.layers.test_tile_wsgi import call, tile_path

ONLY_IN_REPLICA = 987_654  # an estate id the demo city never reaches
NAME = "只在只读副本中的小区"
BOTH = ["default", REPLICA]


@pytest.fixture(scope="module")
def replica_database(django_db_setup, django_db_blocker):
    """A second test database behind the `replica` alias, migrated and otherwise empty."""
    primary = connections["default"].settings_dict
    name = f"{primary['NAME']}_replica"
    raw = {**primary, "NAME": name, "TEST": {"NAME": name}}
    configured = connections.configure_settings({"default": primary, REPLICA: raw})[REPLICA]
    settings.DATABASES[REPLICA] = configured
    connections.settings[REPLICA] = configured
    with django_db_blocker.unblock():
        connections[REPLICA].creation.create_test_db(verbosity=0, autoclobber=True, serialize=False)
    yield
    with django_db_blocker.unblock():
        connections[REPLICA].creation.destroy_test_db(name, verbosity=0)
        connections[REPLICA].close()
    del connections[REPLICA]
    settings.DATABASES.pop(REPLICA, None)  # connections.settings is the same dict


@pytest.fixture
def replica_estate(replica_database) -> Estate:
    """A published estate (with its county) written straight into the replica only."""
    square = Polygon.from_bbox((115.70, 33.80, 115.72, 33.82))
    county = Region.objects.using(REPLICA).create(
        adcode="349901", name="副本县", level="district", boundary=MultiPolygon(square, srid=4326)
    )
    estate = Estate.objects.using(REPLICA).create(
        pk=ONLY_IN_REPLICA,
        name=NAME,
        address="副本县幸福路 1 号",
        district=county,
        location=Point(115.71, 33.81, srid=4326),
        published=True,
    )
    assert not Estate.objects.using("default").filter(pk=ONLY_IN_REPLICA).exists()
    return estate


_fresh = itertools.count()


def get(client, url: str):
    """Rendered now: public pages are cached on the stock version and the full path."""
    cache.clear()
    return client.get(url, {"fresh": next(_fresh)})


@pytest.mark.django_db(databases=BOTH)
def test_anonymous_public_pages_read_the_replica(client, replica_estate):
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        page = get(client, f"/estates/{ONLY_IN_REPLICA}/")
        api = get(client, f"/api/estates/{ONLY_IN_REPLICA}/")
    assert page.status_code == 200 and NAME in page.content.decode()
    assert api.status_code == 200 and api.json()["properties"]["name"] == NAME
    assert any("geo_estate" in q["sql"] for q in on_replica.captured_queries)


@pytest.mark.django_db(databases=BOTH)
def test_signed_in_visitors_read_the_primary(client, replica_estate):
    client.force_login(get_user_model().objects.create_user("replica-visitor"))
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert get(client, f"/estates/{ONLY_IN_REPLICA}/").status_code == 404
    assert on_replica.captured_queries == []


@pytest.mark.django_db(databases=BOTH)
def test_a_post_reads_the_primary_and_pins_the_browser_to_it(client, replica_estate):
    with (
        CaptureQueriesContext(connections["default"]) as on_primary,
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
    ):
        response = client.post("/staff/login/", {"username": "nobody", "password": "wrong"})
    assert response.status_code == 200  # the form again, with its error
    assert on_primary.captured_queries and on_replica.captured_queries == []
    assert PIN_COOKIE in response.cookies
    client.cookies.pop(settings.SESSION_COOKIE_NAME, None)  # only the pin keeps it on the primary
    assert get(client, f"/estates/{ONLY_IN_REPLICA}/").status_code == 404
    client.cookies.pop(PIN_COOKIE)
    assert get(client, f"/estates/{ONLY_IN_REPLICA}/").status_code == 200


@pytest.mark.django_db(databases=BOTH)
def test_transactions_and_writes_read_the_primary(replica_estate):
    with public_reads():
        assert read_alias() == REPLICA
        assert Estate.objects.filter(pk=ONLY_IN_REPLICA).exists()
        with read_connection().cursor() as cursor:  # raw SQL (tiles, OGC) follows the router
            cursor.execute("SELECT name FROM geo_estate WHERE id = %s", [ONLY_IN_REPLICA])
            assert cursor.fetchone() == (NAME,)
        with transaction.atomic():
            assert not Estate.objects.filter(pk=ONLY_IN_REPLICA).exists()
        get_user_model().objects.create_user("replica-writer")  # a write pins the rest
        assert read_alias() == "default"
        assert not Estate.objects.filter(pk=ONLY_IN_REPLICA).exists()
    assert read_alias() == "default"


@pytest.mark.filterwarnings("ignore:Overriding setting DATABASES")
@pytest.mark.django_db(databases=BOTH)
def test_without_a_replica_everything_reads_the_primary(client, replica_estate, settings):
    settings.DATABASES = {"default": settings.DATABASES["default"]}
    with CaptureQueriesContext(connections[REPLICA]) as on_replica:
        assert get(client, f"/estates/{ONLY_IN_REPLICA}/").status_code == 404
        with public_reads():
            assert read_alias() == "default"
            assert not Estate.objects.filter(pk=ONLY_IN_REPLICA).exists()
    assert on_replica.captured_queries == []


@pytest.mark.django_db(databases=BOTH)
def test_tiles_on_the_short_path_read_the_replica_for_anonymous_visitors(
    replica_estate, settings, tmp_path
):
    """gunicorn's application (portal.wsgi) serves tiles before the routing middleware: it
    makes the same choice, so an anonymous tile reads the replica (where this estate has no
    units yet: an empty tile) and a signed-in visitor's tile reads the primary."""
    settings.TILE_CACHE_DIR = str(tmp_path / "tiles")
    busy = Estate.objects.published().filter(buildings__units__status="vacant").first()
    path = tile_path("estates", busy.location.x, busy.location.y, 14)
    # A handler closes old connections around a request: that would end the test's transaction.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    try:
        with CaptureQueriesContext(connections[REPLICA]) as on_replica:
            anonymous = call(wsgi.application, path)
        with CaptureQueriesContext(connections[REPLICA]) as on_replica_signed_in:
            cookie = f"{settings.SESSION_COOKIE_NAME}=x"
            signed_in = call(wsgi.application, path, cookie=cookie)
    finally:
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)
    assert anonymous[0] == 204 and on_replica.captured_queries
    assert signed_in[0] == 200 and signed_in[2] and on_replica_signed_in.captured_queries == []
