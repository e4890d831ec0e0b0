"""The OpenAPI document against a real server: it is valid OpenAPI 3.1, it is what the repository holds, and
schemathesis finds no difference between it and the server's behaviour.

Schemathesis runs every phase (examples, coverage, fuzzing, stateful links: login -> list -> edit -> list) with
positive and negative data and every check (server errors, status codes, content types, headers, response
schemas, negative data rejected, 405 for undeclared methods, auth enforced, ...), authenticated with a real
session (Tests/e2e/schemathesis_hooks.py). CI runs a small seeded run; scripts/fuzz-api runs a longer one and
prints how many cases it ran. The server is a fresh one of its own, with request limits off and lockout budgets
lifted: the fuzzer's thousands of bad logins from one address would otherwise lock its own session out (lockouts and
limits have their own tests).
"""

import json
import os
import pathlib
import re
import subprocess
import sys

import pytest
import requests
from openapi_spec_validator import validate

from plain_server import PlainServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOCUMENT = ROOT / "Sources" / "KeygateServer" / "API" / "openapi.json"


@pytest.fixture(scope="module")
def fuzz_server():
    server = PlainServer(KEYGATE_RATELIMIT_PRESET="off", KEYGATE_LOGIN_MAX_FAILURES_PER_PAIR="100000000",
                         KEYGATE_LOGIN_MAX_FAILURES_PER_ADDRESS="100000000", KEYGATE_LOGIN_MAX_FAILURES_PER_NAME="100000000")
    yield server
    server.close()


def test_the_served_document_is_the_repository_file_and_valid_openapi_3_1(fuzz_server):
    response = requests.get(f"{fuzz_server.base}/api/v1/openapi.json", timeout=10)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.content == DOCUMENT.read_bytes()
    document = response.json()
    assert document["openapi"] == "3.1.0"
    validate(document)


def run_schemathesis(server, *, seed, max_examples, extra=()):
    """Runs the schemathesis CLI against `server`; returns (exit code, output)."""
    admins = server.cli("admin", "list", "--org", "Demo")
    env = dict(os.environ, KEYGATE_FUZZ_BASE=server.base, KEYGATE_FUZZ_ORG="Demo", KEYGATE_FUZZ_ADMIN_ID=str(admins[0]["id"]),
               KEYGATE_FUZZ_PASSWORD=server.banner["password"], KEYGATE_FUZZ_DATABASE=server.database,
               KEYGATE_BIN=server.env.get("KEYGATE_BIN") or str(ROOT / ".build" / "debug" / "keygate"),
               SCHEMATHESIS_HOOKS="schemathesis_hooks", PYTHONPATH=str(ROOT / "Tests" / "e2e"), NO_COLOR="1")
    command = [str(pathlib.Path(sys.executable).parent / "schemathesis"), "--config-file", str(ROOT / "Tests" / "e2e" / "schemathesis.toml"),
               "run", f"{server.base}/api/v1/openapi.json",
               "--url", server.base, "--checks", "all", "--mode", "all", "--phases", "examples,coverage,fuzzing,stateful",
               "--seed", str(seed), "--max-examples", str(max_examples), "--workers", "1", "--no-color",
               "--generation-database", "none", "--request-timeout", "30", *extra]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800, cwd=server.directory)
    return result.returncode, result.stdout + result.stderr


def cases_run(output):
    found = re.search(r"(\d+) generated", output)
    return int(found.group(1)) if found else 0


def test_schemathesis_finds_no_difference_between_document_and_server(fuzz_server):
    seed = int(os.environ.get("KEYGATE_FUZZ_SEED", "20261128"))
    code, output = run_schemathesis(fuzz_server, seed=seed, max_examples=int(os.environ.get("KEYGATE_FUZZ_EXAMPLES", "12")))
    print(output[-3000:])
    print(f"schemathesis: {cases_run(output)} test cases (seed {seed})")
    assert code == 0, output[-20000:]
    assert "Stateful" in output and cases_run(output) > 500, output[-3000:]
    # The server stayed up and well: no 500 reached a client, none was logged.
    assert requests.get(f"{fuzz_server.base}/health", timeout=10).status_code == 200
    assert "unexpected error" not in fuzz_server.log_path.read_text()
