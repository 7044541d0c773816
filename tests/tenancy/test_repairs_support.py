"""Helpers of the repair tests (no tests here): a running lease with a tenant account, staff
around its estate, and photos made with Pillow (one carrying a GPS position in its EXIF)."""

import io
from dataclasses import dataclass
from datetime import date

from PIL import Image

from geo.models import Estate, Operator, Unit
from housing.models import Household
from tenancy.models import Contract, Repair
from tenancy.services import repairs
from tests.personas import make_staff
from tests.tenancy.rent import lease

GPS_IFD = 0x8825


def gps_jpeg(size: tuple[int, int] = (800, 600)) -> bytes:
    """A JPEG as a phone writes it: camera make and a GPS position (亳州) in its EXIF."""
    image = Image.new("RGB", size, (180, 60, 40))
    exif = Image.Exif()
    exif[0x010F] = "AnjuTestPhone"  # Make
    exif[GPS_IFD] = {1: "N", 2: (33.0, 50.0, 41.0), 3: "E", 4: (115.0, 46.0, 52.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    data = out.getvalue()
    assert Image.open(io.BytesIO(data)).getexif().get_ifd(GPS_IFD), "the test photo has GPS"
    return data


def png(size: tuple[int, int] = (120, 90)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, (20, 120, 200)).save(out, "PNG")
    return out.getvalue()


@dataclass
class Site:
    """A lease, its estate and the staff around it (inside and outside its jurisdiction)."""

    contract: Contract
    household: Household
    estate: Estate
    operator: object  # the estate's operator's staff member
    county: object  # the estate's county housing department
    street: object  # the estate's street (follows, does not handle)
    other_operator: object
    other_county: object


def site(skip: int = 0) -> Site:
    contract = lease(start=date(2026, 1, 1), skip=skip)
    estate = contract.unit.building.estate
    assert contract.household.applicant_id, "the demo lease has a tenant account"
    assert Unit.objects.get(pk=contract.unit_id).status == Unit.Status.OCCUPIED
    other_op = Operator.objects.exclude(pk=estate.operator_id).order_by("pk").first()
    other_county = Estate.objects.exclude(district=estate.district).order_by("pk").first().district
    tag = f"{skip}-{contract.pk}"
    return Site(
        contract=contract,
        household=contract.household,
        estate=estate,
        operator=make_staff(f"r-op-{tag}", "operator", operator=estate.operator),
        county=make_staff(f"r-county-{tag}", "district", region=estate.district),
        street=make_staff(f"r-street-{tag}", "street", region=estate.street)
        if estate.street_id
        else None,
        other_operator=make_staff(f"r-otherop-{tag}", "operator", operator=other_op),
        other_county=make_staff(f"r-othercounty-{tag}", "district", region=other_county),
    )


def reported(s: Site, *, category: str = "general", photos=()) -> Repair:
    return repairs.report_by_tenant(
        applicant=s.household.applicant,
        contract_id=s.contract.pk,
        category=category,
        description="卫生间水管漏水",
        photos=photos,
    )


def as_tenant(client, household: Household) -> None:
    client.logout()
    session = client.session
    session["applicant_id"] = household.applicant_id
    session.save()
