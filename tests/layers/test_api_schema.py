"""Property-based check of the public API against its own OpenAPI schema (schemathesis): every
documented operation answers without a server error and as the schema says, for generated
parameters (bounded: a few examples per operation)."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from portal.wsgi import application

pytestmark = pytest.mark.django_db
EXAMPLES = 15


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """Requests go straight to the WSGI app; like Django's test client, keep the test's
    database connection open between them."""
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


def operations():
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application)
    return [result.ok() for result in schema.get_all_operations()]


def test_the_schema_documents_the_api():
    paths = {op.path for op in operations()}
    assert {"/api/estates/", "/api/units/", "/api/search/", "/api/locate/"} <= paths


def test_every_operation_answers_as_its_schema_says():
    for operation in operations():

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,  # the same examples on every run: CI answers the same way
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def check(case):
            # A filter the form refuses (400, documented) is an answer, not a fault: the
            # schema cannot say every rule of the form.
            case.call_and_validate(excluded_checks=[positive_data_acceptance])

        check()
