"""Property-based fuzz of the whole API from its OpenAPI description: no input gets a 5xx.

Schemathesis generates the requests from /api/v1/openapi.json; each operation gets its own
Hypothesis run, as an admin (who reaches every endpoint) and without a token.
"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from tiyan.web.app import create_app

SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck))


def operations(ctx):
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", create_app(ctx))
    return [result.ok() for result in schema.get_all_operations()]


def fuzz(operation, headers, examples=SETTINGS.max_examples):
    @settings(SETTINGS, max_examples=examples)
    @given(case=operation.as_strategy())
    def run(case):
        response = case.call(headers=headers)
        assert response.status_code < 500, (
            f"{case.method} {case.formatted_path} -> {response.status_code}: {response.text}")

    run()


def test_no_request_makes_the_api_fail_with_a_server_error(ctx, world):
    headers = {"Authorization": f"Bearer {world.tokens['admin@t.test']}"}
    ops = operations(ctx)
    assert len(ops) >= 10
    for operation in ops:
        fuzz(operation, headers)


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)
def test_no_request_without_a_token_makes_the_api_fail_with_a_server_error(ctx, world):
    """Without a token every request stops at authentication, before the database is asked
    anything a backend could answer differently: one backend and fewer examples suffice."""
    ops = operations(ctx)
    assert len(ops) >= 10
    for operation in ops:
        fuzz(operation, {}, examples=10)
