"""OGC items paged by keyset: `next` links carry the last id, so following them walks every
match exactly once in id order; `offset` still works for clients that send it; with a bbox,
numberMatched is left out of JSON (it is optional) and the page costs one query."""

import pytest
from django.contrib.gis.geos import Polygon

from geo.models import Estate, Unit

pytestmark = pytest.mark.django_db


def follow(client, url: str) -> tuple[list[int], list[dict]]:
    """Every feature id reached from `url` by its `next` links, and every page."""
    ids, pages = [], []
    while url:
        data = client.get(url.replace("http://testserver", "")).json()
        pages.append(data)
        ids += [f["id"] for f in data["features"]]
        url = next((link["href"] for link in data["links"] if link["rel"] == "next"), None)
        assert len(pages) < 500, "the next links never end"
    return ids, pages


@pytest.fixture
def box() -> tuple[str, Polygon]:
    """A box around an estate with vacant units, holding more than a few pages of them."""
    estate = Estate.objects.published().filter(buildings__units__status="vacant").first()
    x, y = estate.location.x, estate.location.y
    corners = (x - 0.03, y - 0.03, x + 0.03, y + 0.03)
    polygon = Polygon.from_bbox(corners)
    polygon.srid = 4326
    return ",".join(f"{c:.6f}" for c in corners), polygon


def vacant_in(polygon: Polygon) -> list[int]:
    """Brute force: the public vacant units whose building point lies in the box."""
    return sorted(
        Unit.objects.filter(
            status="vacant",
            building__estate__published=True,
            building__estate__district__isnull=False,
            building__map_point__intersects=polygon,
        ).values_list("pk", flat=True)
    )


def test_next_links_walk_every_vacant_unit_in_a_bbox_once_in_id_order(client, box):
    bbox, polygon = box
    expected = vacant_in(polygon)
    assert len(expected) > 14, "the box must span several pages"
    ids, pages = follow(client, f"/ogc/collections/vacant-units/items?bbox={bbox}&limit=7")
    assert ids == expected  # each once, in id order, none missing
    assert len(pages) == -(-len(expected) // 7)
    for page in pages[1:]:
        self_link = next(link["href"] for link in page["links"] if link["rel"] == "self")
        assert "after=" in self_link and "offset=" not in self_link
    assert all("numberMatched" not in page for page in pages)


def test_next_links_without_a_bbox_walk_the_filtered_rows(client):
    expected = sorted(
        Unit.objects.filter(
            status="vacant",
            rooms=3,
            building__estate__published=True,
            building__estate__district__isnull=False,
        ).values_list("pk", flat=True)
    )
    ids, pages = follow(client, "/ogc/collections/vacant-units/items?rooms=3&limit=50")
    assert ids == expected
    assert pages[0]["numberMatched"] == len(expected)


def test_offset_still_pages_by_offset(client, box):
    bbox, polygon = box
    expected = vacant_in(polygon)
    data = client.get(f"/ogc/collections/vacant-units/items?bbox={bbox}&limit=5&offset=5").json()
    assert [f["id"] for f in data["features"]] == expected[5:10]
    links = {link["rel"]: link["href"] for link in data["links"]}
    assert "offset=10" in links["next"] and "offset=0" in links["prev"]
    ids, _pages = follow(client, links["next"])
    assert ids == expected[10:]


def test_after_and_offset_together_and_a_bad_after(client, box):
    bbox, polygon = box
    expected = vacant_in(polygon)
    url = f"/ogc/collections/vacant-units/items?bbox={bbox}&limit=3&offset=2&after={expected[1]}"
    data = client.get(url).json()
    assert [f["id"] for f in data["features"]] == expected[4:7]
    response = client.get("/ogc/collections/vacant-units/items?after=abc")
    assert response.status_code == 400 and "after" in response.json()["description"]


def test_a_bbox_page_is_one_query(client, box, django_assert_num_queries):
    bbox, _polygon = box
    with django_assert_num_queries(1):
        response = client.get(f"/ogc/collections/vacant-units/items?bbox={bbox}&limit=10")
    assert response.status_code == 200 and len(response.json()["features"]) == 10


def test_html_pages_still_count_the_matches(client, box):
    bbox, polygon = box
    response = client.get(f"/ogc/collections/vacant-units/items?bbox={bbox}&limit=5&f=html")
    assert response.status_code == 200
    assert f"共 {len(vacant_in(polygon))} 个要素" in response.content.decode()


def test_estates_in_a_bbox_by_keyset(client, box):
    bbox, polygon = box
    expected = sorted(
        Estate.objects.published()
        .filter(location__intersects=polygon, district__isnull=False)
        .values_list("pk", flat=True)
    )
    ids, _pages = follow(client, f"/ogc/collections/estates/items?bbox={bbox}&limit=2")
    assert ids == expected
