"""The event log is append-only in the database itself, and every stock change writes to it."""

import pytest
from django.db import DatabaseError, connection, transaction

from archive.models import AccessRecord, Event
from archive.services import record_event

pytestmark = pytest.mark.django_db


@pytest.fixture
def event() -> Event:
    return record_event("test.event", "测试事件", actor=None, unit_id=1, after={"a": 1})


def test_orm_update_and_delete_are_refused(event):
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).update(summary="改写")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        Event.objects.filter(pk=event.pk).delete()
    assert Event.objects.get(pk=event.pk).summary == "测试事件"


def test_raw_sql_cannot_rewrite_history_either(event):
    for sql in [
        "UPDATE archive_event SET summary = 'x' WHERE id = %s",
        "DELETE FROM archive_event WHERE id = %s",
    ]:
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [event.pk])
    assert Event.objects.filter(pk=event.pk, summary="测试事件").exists()


def test_access_records_are_append_only_too(django_user_model):
    user = django_user_model.objects.create_user("reader")
    record = AccessRecord.objects.create(user=user, path="/x", subject_type="unit", subject_id=1)
    with pytest.raises(DatabaseError), transaction.atomic():
        AccessRecord.objects.filter(pk=record.pk).delete()
