"""The admin edits geometry on a map whose scripts are our own; only superusers get in."""

import re

import pytest
from django.contrib.auth import get_user_model

from geo.models import Estate

pytestmark = pytest.mark.django_db


def test_estate_change_page_uses_local_openlayers(client):
    admin = get_user_model().objects.create_superuser("root", password="x-very-long-pw")
    client.force_login(admin)
    estate = Estate.objects.first()
    html = client.get(f"/admin/geo/estate/{estate.pk}/change/").content.decode()
    assert "/static/vendor/ol/dist/ol.js" in html
    assert "ol.source.OSM" not in html
    assert not re.findall(r'(?:src|href)="(?:https?:)?//', html)


def test_admin_requires_staff(client):
    response = client.get("/admin/geo/estate/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
