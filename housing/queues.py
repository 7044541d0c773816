"""Which applications wait for staff: shared by the review queues, the staff home and the
early warnings, so "waiting" and "overdue" mean the same everywhere."""

from django.db.models import Q

from housing.models import Application

# Every step where a case waits for a decision (drafts wait for the applicant; approved and
# rejected cases wait for nobody).
REVIEW_STEPS = frozenset(Application.Stage.values) - {
    Application.Stage.DRAFT,
    Application.Stage.APPROVED,
    Application.Stage.REJECTED,
}


def waiting_q(steps: set[str] | frozenset[str]) -> Q:
    """Cases that need a staff member's hand: a decision at one of the steps, or a publicity
    not yet started (a running publicity waits for its period to end, not for anyone)."""
    return Q(stage__in=steps, returned=False) & ~Q(
        stage=Application.Stage.PUBLICITY, review_outbox__isnull=False
    )
