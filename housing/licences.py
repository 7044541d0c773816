"""电子证照 on an application: the licences fetched from the licence service instead of paper,
kept as evidence (exchange.Evidence, department "licence:<kind>") and read back for the
resident's and the staff's pages. A service that cannot be reached never stops an application:
the applicant is told, and paper copies stay possible."""

from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from archive.services import record_event
from disclosure.masking import mask_id_number
from exchange.licences import KINDS, LicenceAnswer, LicenceSource, fetch_all
from exchange.models import Evidence
from exchange.sources import SourceUnavailable
from housing.models import Application

PREFIX = "licence:"


@dataclass(frozen=True)
class UsedLicence:
    """One line of "已使用电子证照": a licence found, or a type the service holds none of."""

    kind: str
    label: str
    found: bool
    number: str  # masked
    issuer: str
    status: str
    fetched_at: datetime


def department(kind: str) -> str:
    return f"{PREFIX}{kind}"


def _evidence(application: Application):
    return Evidence.objects.filter(
        subject_type="application", subject_id=application.pk, department__startswith=PREFIX
    )


def recorded(application: Application) -> bool:
    return application.pk is not None and _evidence(application).exists()


def fetch(id_number: str, source: LicenceSource | None) -> tuple[dict[str, LicenceAnswer], str]:
    """Every licence type for the person, or none and the reason in Chinese: asked before the
    application's transaction, since the service may take seconds."""
    if source is None:
        return {}, ""
    try:
        return fetch_all(id_number, source), ""
    except SourceUnavailable as exc:
        return {}, str(exc)


def record(application: Application, answers: dict[str, LicenceAnswer]) -> None:
    """Keep every answer as evidence with its hash, in the caller's transaction."""
    if not answers:
        return
    Evidence.objects.bulk_create(
        Evidence(
            subject_type="application",
            subject_id=application.pk,
            department=department(a.kind),
            source=a.source,
            fetched_at=a.fetched_at,
            payload=a.payload,
            payload_hash=a.payload_hash,
        )
        for a in answers.values()
    )
    held = [str(KINDS[a.kind]) for a in answers.values() if a.licences]
    record_event(
        "application.licences",
        f"{application.number} 已使用电子证照：{'、'.join(held) or '未查到'}",
        actor=None,
        household_id=application.pk,
        after={"evidence": {a.kind: a.payload_hash for a in answers.values()}},
    )


def fetch_and_record(application_id: int, *, source: LicenceSource | None = None) -> str:
    """Ask the licence service again for a case that has none recorded (e.g. the service was
    down at submission); returns the reason when it still cannot be reached, else "".
    No source (departments from delivered files): there is no licence service to ask."""
    application = Application.objects.get(pk=application_id)
    if recorded(application):
        return ""
    answers, problem = fetch(application.id_number, source)
    if problem:
        return problem
    with transaction.atomic():
        application = Application.objects.select_for_update().get(pk=application_id)
        if not recorded(application):
            record(application, answers)
    return ""


def used_by(application: Application) -> list[UsedLicence]:
    """The latest answer per licence type, one line per licence held or per type not found."""
    latest: dict[str, Evidence] = {}
    for evidence in _evidence(application).order_by("-fetched_at", "-pk"):
        latest.setdefault(evidence.department.removeprefix(PREFIX), evidence)
    lines = []
    for kind, label in KINDS.items():
        evidence = latest.get(kind)
        if evidence is None:
            continue
        held = evidence.payload.get("licences") or []
        for licence in held:
            lines.append(
                UsedLicence(
                    kind,
                    str(label),
                    True,
                    mask_id_number(licence.get("number", "")),
                    licence.get("issuer", ""),
                    licence.get("status", ""),
                    evidence.fetched_at,
                )
            )
        if not held:
            lines.append(UsedLicence(kind, str(label), False, "", "", "", evidence.fetched_at))
    return lines
