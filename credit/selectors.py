"""What credit answers to the stages above it: is this person held back from this step, and
why (the reason is shown to staff and to the person, naming the record and its period)."""

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from archive.crypto import blind_index
from credit.models import Effect, Proposal, Record, Subject


@dataclass(frozen=True)
class Hold:
    """A record in effect that stops an action: what the page says about it."""

    record: Record
    effect: str

    @property
    def reason(self) -> str:
        r = self.record
        return (
            f"{r.subject.name}有尚在影响期内的失信记录：{r.conduct.name}（{r.get_level_display()}，"
            f"{r.county.name} {r.decided_on:%Y-%m-%d} 认定，影响期至 {r.last_day:%Y-%m-%d}），"
            f"{Effect(self.effect).label}。"
        )


def records_of(id_numbers: list[str], on: date) -> QuerySet[Record]:
    """Records in effect on `on` for any of these people (one query, by blind index)."""
    keys = [blind_index(n.strip().upper()) for n in id_numbers if n]
    return (
        Record.objects.filter(
            Record.in_effect_q(on),
            subject__kind=Subject.Kind.PERSON,
            subject__id_index__in=keys,
        )
        .select_related("subject", "conduct", "county")
        .order_by("-decided_on")
    )


def holds(id_numbers: list[str], effect: str, on: date) -> list[Hold]:
    """The records that stop `effect` (apply, allocate, renew) for any of these people."""
    return [Hold(r, effect) for r in records_of(id_numbers, on) if effect in r.effects]


def held_back_ids(id_indexes: list[str], effect: str, on: date) -> set[str]:
    """Of these blind indexes, the ones held back from `effect` (for set-based callers)."""
    rows = Record.objects.filter(
        Record.in_effect_q(on),
        subject__kind=Subject.Kind.PERSON,
        subject__id_index__in=id_indexes,
        effects__contains=[effect],
    ).values_list("subject__id_index", flat=True)
    return set(rows)


def open_proposals_of(id_numbers: list[str]) -> QuerySet[Proposal]:
    """Proposals about these people still open: what they may object to, and until when."""
    keys = [blind_index(n.strip().upper()) for n in id_numbers if n]
    return (
        Proposal.objects.filter(
            subject__kind=Subject.Kind.PERSON,
            subject__id_index__in=keys,
            status__in=[Proposal.Status.NOTIFIED, Proposal.Status.OBJECTED],
        )
        .select_related("subject", "conduct", "county")
        .order_by("objection_until")
    )


def is_about(proposal_or_record, id_numbers: list[str]) -> bool:
    """Whether a proposal or record concerns one of these people (checked by blind index)."""
    keys = {blind_index(n.strip().upper()) for n in id_numbers if n}
    subject = proposal_or_record.subject
    return subject.kind == Subject.Kind.PERSON and subject.id_index in keys
