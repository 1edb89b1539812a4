"""C-40: schemathesis over the OpenAPI description, in-process (ASGI, no server).

Generated valid and invalid requests for every operation, sent as a worker, a manager and an
auditor in turn (Bearer tokens from the factories): no 5xx, and every 4xx body is exactly the
error envelope with no internals. Responses with 2xx must match their documented schema.
CI profile: 25 valid and 10 invalid examples per operation, derandomized (fixed seed),
no shrinking; `make fuzz` may raise it
with SCHEMATHESIS_EXAMPLES.

Runs on SQLite only: the checks are about request handling, which is the same code on both
databases, and on the shared 2-core CI box PostgreSQL doubles the run beyond the 3-minute
budget. The database-dependent behaviour is covered on both backends by the other tests here
(matrix, IDOR, injection, pagination).
"""

from __future__ import annotations

import os
import time
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error, response_schema_conformance

from tests.security.support import LEAK_MARKERS, build_security_world

EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
ROLES = ("worker", "institution_manager", "quality_auditor")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Overrides the two-database parametrisation for this module (see the docstring)."""
    return request.param


def error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """Every 4xx is `{"error": {"code", "message", "field"}}` and shows no internals."""
    text = response.text if hasattr(response, "text") else response.content.decode()
    for marker in LEAK_MARKERS:
        assert marker not in text, f"response leaks {marker!r}"
    if 400 <= response.status_code < 500:
        body = response.json()
        assert set(body) == {"error"}, f"not the error envelope: {body}"
        assert set(body["error"]) == {"code", "message", "field"}, body
        assert isinstance(body["error"]["code"], str) and body["error"]["message"], body
    return None


def _routes(app: Any) -> list[Any]:
    from fastapi.routing import iter_route_contexts

    return list(iter_route_contexts(app.routes))


CHECKS = [not_a_server_error, response_schema_conformance, error_envelope]


def _run_operation(operation: Any, mode: GenerationMode, sworld: Any) -> None:
    @settings(
        max_examples=EXAMPLES if mode is GenerationMode.POSITIVE else max(5, EXAMPLES * 2 // 5),
        derandomize=True,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        phases=[Phase.explicit, Phase.generate],  # report the first failure, do not shrink
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: Any) -> None:
        for role in ROLES:  # the same request as each role, with its own Bearer token
            headers = dict(sworld.headers(role))
            response = case.call(headers=headers)
            case.validate_response(response, checks=CHECKS, headers=headers)

    run()


def test_generated_requests(app, world) -> None:  # type: ignore[no-untyped-def]
    sworld = build_security_world(world)
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 20
    failures: list[str] = []
    timings: list[tuple[float, str, str]] = []
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            started = time.perf_counter()
            try:
                _run_operation(operation, mode, sworld)
            except Unsatisfiable:  # nothing to make invalid (no parameters, no body)
                assert mode is GenerationMode.NEGATIVE and not operation.body, operation.label
            except Exception as exc:  # collect all operations' failures, then report
                message = f"{operation.label} [{mode.value}]: {str(exc)[:1500]}"
                failures.append(message)
            timings.append((time.perf_counter() - started, operation.label, mode.value))
    print(sorted(timings, reverse=True)[:12])  # noqa: T201 - shown with -s, for the budget
    assert not failures, f"{len(failures)} generated-request failures:\n" + "\n\n".join(failures)
