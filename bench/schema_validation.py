"""How long validating one submitted result takes (it sits on the submit hot path).

Prints one JSON line per schema: microseconds per `validate_result` call (best of 5 runs).
Run: .venv/bin/python bench/schema_validation.py
"""

from __future__ import annotations

import json
import math
import time

from datadam.schema import example_result, example_schema, parse_schema

RUNS = 5_000


def measure(name: str) -> dict[str, object]:
    schema = parse_schema(example_schema(name))
    result = example_result(schema)
    from datadam.schema import validate_result

    best = math.inf
    for _ in range(5):
        started = time.perf_counter()
        for _ in range(RUNS):
            validate_result(schema, result)
        best = min(best, (time.perf_counter() - started) / RUNS)
    return {"schema": name, "microseconds_per_result": round(best * 1e6, 2)}


if __name__ == "__main__":
    for schema_name in ("choice", "spans", "shapes", "sleep_staging", "combined"):
        print(json.dumps(measure(schema_name)))
