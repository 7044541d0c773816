"""办件状态推送 from the CasePush outbox: every step of a case reaches the platform's personal
centre once and in order, with the same guarantees as publications.

The row is written by a database trigger in the transaction that changed the step (migration
0011); services ask for a job on commit (`push_soon`) and a periodic sweep takes up what a lost
job or a platform that was down left behind, with backoff. A push is marked delivered only after
the platform answered; a worker killed in between sends it again with the same idempotency key,
and the platform records the key once. A case's later step waits until the earlier one is in.
"""

import contextlib
from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from exchange.case_push import CasePushClient, CaseStep, PushFailed, default_client
from housing.models import Application, CasePush

PUSH_TASK = "housing.tasks.push_case"
# Seconds before the next try after 1, 2, 3 … failed attempts (the last repeats).
BACKOFF = [30, 60, 120, 300, 600, 1800, 3600]

IN_PROGRESS, RETURNED, APPROVED, REJECTED = "办理中", "退回补正", "通过", "不予通过"


def result_of(stage: str, returned: bool) -> str:
    """The platform's 办理结果 for a step: 办理中 until the case is decided."""
    if stage == Application.Stage.APPROVED:
        return APPROVED
    if stage == Application.Stage.REJECTED:
        return REJECTED
    return RETURNED if returned else IN_PROGRESS


def step_of(push: CasePush) -> CaseStep:
    """What the platform receives: the application number is the 办件编码; the ID number says
    whose case it is (read from the case, never copied into the push row)."""
    application = push.application
    return CaseStep(
        key=str(push.key),
        case_number=application.number,
        id_number=application.id_number,
        step=push.stage,
        step_name=str(Application.Stage(push.stage).label),
        result=result_of(push.stage, push.returned),
        occurred_at=timezone.localtime(push.occurred_at).isoformat(),
    )


def push_soon(application_id: int) -> None:
    """After the caller's transaction commits, queue the job that sends this case's pushes."""
    transaction.on_commit(lambda: _defer(application_id))


def _defer(application_id: int) -> None:
    lock = f"case-push-{application_id}"
    # One job per case at a time (lock); a job still waiting will send the new step too. The
    # savepoint keeps a refused duplicate from spoiling a transaction around us.
    with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
        app.configure_task(PUSH_TASK, queue="housing", lock=lock, queueing_lock=lock).defer(
            application_id=application_id
        )


def process_case(application_id: int, client: CasePushClient | None = None) -> int:
    """Send a case's pending pushes in order; stop at the first that fails. Returns how many
    were delivered. Raises PushFailed when the platform could not be reached."""
    client = client or default_client()
    if client is None:
        return 0  # pushing is off: rows wait until a platform is configured
    delivered = 0
    pending = CasePush.objects.filter(application_id=application_id, delivered_at__isnull=True)
    for push_id in pending.order_by("id").values_list("id", flat=True):
        if not _deliver(push_id, client):
            break
        delivered += 1
    return delivered


def _deliver(push_id: int, client: CasePushClient) -> bool:
    failure = None
    with transaction.atomic():
        push = (
            CasePush.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("application")
            .filter(pk=push_id, delivered_at__isnull=True)
            .first()
        )
        if push is None:
            return False  # another worker holds it, or it is in already
        earlier = CasePush.objects.filter(
            application_id=push.application_id, delivered_at__isnull=True, pk__lt=push.pk
        )
        if earlier.exists():
            return False  # in order: the earlier step first
        push.attempts += 1
        try:
            client.send(step_of(push))
        except PushFailed as exc:
            wait = BACKOFF[min(push.attempts, len(BACKOFF)) - 1]
            push.last_error = str(exc)[:200]
            push.next_attempt_at = timezone.now() + timedelta(seconds=wait)
            push.save(update_fields=["attempts", "last_error", "next_attempt_at"])
            failure = exc
        else:
            _mark_delivered(push)
    if failure is not None and failure.unavailable:
        raise failure  # the attempt is counted; the caller stops trying other cases
    return failure is None


def _mark_delivered(push: CasePush) -> None:
    push.delivered_at = timezone.now()
    push.last_error = ""
    push.save(update_fields=["attempts", "delivered_at", "last_error"])


def pending_case_ids(older_than_seconds: int = 0, limit: int = 500) -> list[int]:
    """Cases whose earliest undelivered push is due, the longest waiting first: a later step
    never jumps the backoff of the one before it."""
    cutoff = timezone.now() - timedelta(seconds=older_than_seconds)
    heads = (
        CasePush.objects.filter(delivered_at__isnull=True)
        .order_by("application_id", "id")
        .distinct("application_id")
        .values("pk")
    )
    return list(
        CasePush.objects.filter(pk__in=heads, next_attempt_at__lte=cutoff)
        .order_by("next_attempt_at")
        .values_list("application_id", flat=True)[:limit]
    )


def sweep(older_than_seconds: int = 30) -> int:
    """Send what is due for every case; stop early when the platform is down."""
    client = default_client()
    if client is None:
        return 0
    delivered = 0
    for application_id in pending_case_ids(older_than_seconds):
        try:
            delivered += process_case(application_id, client)
        except PushFailed:
            break
    return delivered
