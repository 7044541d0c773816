"""The resident's side of allocation over HTTP: /my/ with the household's place and turn,
choosing and answering an offer, the public place lookup by key, and the lottery download."""

import hashlib
import json

import pytest

from allocation.models import Offer, Round, Slot
from allocation.selectors import choosable_units, position_of
from allocation.services.waitlist import policy_for
from disclosure.hashing import canonical_json
from disclosure.models import Publication
from disclosure.services import document_of
from geo.models import Unit
from housing.models import Applicant, Household

pytestmark = pytest.mark.django_db


def sign_in(client, applicant: Applicant) -> None:
    session = client.session
    session["applicant_id"] = applicant.pk
    session.save()


@pytest.fixture
def turn() -> Slot:
    """A household of the demo's choosing round whose slot is open and which has units left."""
    round_ = Round.objects.get(status=Round.Status.CHOOSING)
    policy = policy_for(round_.county)
    for slot in round_.slots.select_related("household", "round").order_by("rank"):
        if slot.status == "waiting" and choosable_units(round_, slot.household, policy).exists():
            return slot
    pytest.fail("no open slot in the demo's choosing round")


def test_my_page_shows_the_households_place_and_its_turn(client, turn):
    household = turn.household
    sign_in(client, household.applicant)
    page = client.get("/my/").content.decode()
    assert household.public_key in page
    assert f'<strong class="big-number">{position_of(household)}</strong>' in page
    assert f"/my/rounds/{turn.round_id}/" in page
    assert "新的申请" not in page  # the approved case is still open: no second application


def test_choosing_through_the_page_makes_an_offer_then_accept(client, turn):
    household = turn.household
    sign_in(client, household.applicant)
    page = client.get(f"/my/rounds/{turn.round_id}/").content.decode()
    unit = choosable_units(turn.round, household, policy_for(household.county)).first()
    assert f'name="unit" value="{unit.pk}"' in page
    response = client.post(f"/my/rounds/{turn.round_id}/choose/", {"unit": unit.pk})
    assert response.status_code == 302
    offer = Offer.objects.get(household=household, status="pending")
    assert offer.unit_id == unit.pk and offer.channel == "online"
    assert Unit.objects.get(pk=unit.pk).status == "offered"
    # A second choice is refused while the first waits for an answer.
    other = choosable_units(turn.round, household, policy_for(household.county)).first()
    if other is not None:
        client.post(f"/my/rounds/{turn.round_id}/choose/", {"unit": other.pk})
        assert Offer.objects.filter(household=household).count() == 1
    client.post(f"/my/offers/{offer.pk}/accept/")
    offer.refresh_from_db()
    household.refresh_from_db()
    assert offer.status == "accepted" and household.status == Household.Status.ALLOCATED


def test_refusing_needs_a_reason_and_frees_the_unit(client, turn):
    household = turn.household
    sign_in(client, household.applicant)
    unit = choosable_units(turn.round, household, policy_for(household.county)).first()
    client.post(f"/my/rounds/{turn.round_id}/choose/", {"unit": unit.pk})
    offer = Offer.objects.get(household=household, status="pending")
    response = client.post(f"/my/offers/{offer.pk}/refuse/", {"reason": " "}, follow=True)
    assert "请说明放弃的理由" in response.content.decode()
    offer.refresh_from_db()
    assert offer.status == "pending"
    client.post(f"/my/offers/{offer.pk}/refuse/", {"reason": "离孩子学校太远"})
    offer.refresh_from_db()
    assert offer.status == "refused"
    assert Unit.objects.get(pk=unit.pk).status == "vacant"
    assert household.waitlist_entry.refusals == 1


def test_another_households_round_and_offer_are_not_found(client, turn):
    stranger = Applicant.objects.create(phone="13711112222")
    sign_in(client, stranger)
    assert client.get(f"/my/rounds/{turn.round_id}/").status_code == 404
    unit = Unit.objects.filter(status="vacant").first()
    assert client.post(f"/my/rounds/{turn.round_id}/choose/", {"unit": unit.pk}).status_code == 404
    offer = Offer.objects.first()
    assert client.post(f"/my/offers/{offer.pk}/accept/").status_code == 404
    assert client.get("/my/rounds/1/").status_code == 404


def test_signed_out_visitors_are_sent_to_sign_in(client, turn):
    response = client.get(f"/my/rounds/{turn.round_id}/")
    assert response.status_code == 302 and "/apply/login/" in response["Location"]


def test_public_place_lookup_by_key_shows_position_but_no_name(client, turn):
    household = turn.household
    page = client.get("/status/", {"key": household.public_key.lower()}).content.decode()
    assert f'<strong class="big-number">{position_of(household)}</strong>' in page
    assert turn.round.name in page
    assert household.head_name not in page and household.phone not in page
    assert "去选房" not in page  # the public view offers no actions
    missing = client.get("/status/", {"key": "ZZZZZZZZ"}).content.decode()
    assert "没有查到这个公示编号的保障家庭" in missing


def test_lottery_json_is_the_published_draw_and_part_of_the_hash(client):
    draw = Publication.objects.filter(kind="round", data__has_key="lottery").first()
    body = client.get(f"/notices/{draw.series_id}/v{draw.version}/lottery.json").content
    lottery = json.loads(body)
    assert set(lottery) == {"participants", "seeds", "order", "algorithm", "participants_sha256"}
    assert lottery == draw.data["lottery"]
    document = document_of(draw)
    assert document["data"]["lottery"] == lottery
    assert hashlib.sha256(canonical_json(document)).hexdigest() == draw.content_hash
    page = client.get(f"/notices/{draw.series_id}/").content.decode()
    assert "lottery.json" in page and "replay_lottery.py" in page
    announcement = Publication.objects.get(series_id=draw.data["announcement"]["series"])
    assert announcement.content_hash == draw.data["announcement"]["hash"]
    assert announcement.data["commitment"]["participants"] == lottery["participants"]


def test_notices_without_a_draw_have_no_lottery_download(client):
    notice = Publication.objects.filter(kind="waitlist").first()
    assert client.get(f"/notices/{notice.series_id}/v1/lottery.json").status_code == 404
    assert "data" not in document_of(notice)  # older documents hash as before
