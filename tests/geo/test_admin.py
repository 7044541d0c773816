"""The admin edits geometry on the site's own map editor; only superusers get in."""

import re

import pytest
from django.contrib.auth import get_user_model

from geo.models import Estate

pytestmark = pytest.mark.django_db


def test_estate_change_page_uses_the_sites_leaflet_editor(client):
    admin = get_user_model().objects.create_superuser("root", password="x-very-long-pw")
    client.force_login(admin)
    estate = Estate.objects.first()
    html = client.get(f"/admin/geo/estate/{estate.pk}/change/").content.decode()
    assert "/static/vendor/leaflet/leaflet.js" in html and "/static/geo/map-widget.js" in html
    assert "ol.js" not in html and "OLMapWidget" not in html
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)


def test_admin_requires_staff(client):
    response = client.get("/admin/geo/estate/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
