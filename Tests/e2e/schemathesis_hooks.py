"""Schemathesis hooks for fuzzing a real Keygate against its own OpenAPI document (Tests/e2e/test_openapi.py and
scripts/fuzz-api load this module through SCHEMATHESIS_HOOKS).

Authentication is a real session, made by the legacy login (obfuscated key, timestamp, password) exactly as the
SDKs make it, and carried as the `JSESSIONID` cookie. The fuzzer's own calls can end that session: a key edit,
regenerate or delete, or a new login name for the fuzzing admin. So before each case the session is checked with
`GET /api/v1/auth` (cheap: served from the session cache) and, when it has ended, made again; when even that fails,
the organization is put back with the operator CLI (a deleted key is added again; the key and the login name are
read from the database). Nothing here loosens a check: every case still meets the server as it is.

Settings come from the environment: KEYGATE_FUZZ_BASE, KEYGATE_FUZZ_ORG, KEYGATE_FUZZ_ADMIN_ID,
KEYGATE_FUZZ_PASSWORD, KEYGATE_FUZZ_DATABASE, KEYGATE_BIN.
"""

import json
import os
import subprocess
import time

import requests
import schemathesis

BASE = os.environ["KEYGATE_FUZZ_BASE"]
ORG = os.environ["KEYGATE_FUZZ_ORG"]
ADMIN_ID = int(os.environ["KEYGATE_FUZZ_ADMIN_ID"])
PASSWORD = os.environ["KEYGATE_FUZZ_PASSWORD"]
DATABASE = os.environ["KEYGATE_FUZZ_DATABASE"]
BINARY = os.environ["KEYGATE_BIN"]
STATS = {"logins": 0, "repairs": 0}


def obfuscate(key, timestamp):
    n = str(timestamp)[-6:]
    r = str(int(n) >> 1).zfill(6)
    return "".join(key[int(c)] for c in n) + "".join(key[int(c) + 2] for c in r)


def cli(*args):
    result = subprocess.run([BINARY, *args, "--database", DATABASE, "--json"], capture_output=True, text=True, timeout=60)
    return result.returncode, result.stdout, result.stderr


def current_credentials():
    """The organization's key (added again if the fuzzer deleted it) and the fuzzing admin's login name."""
    code, out, err = cli("key", "show", "--org", ORG, "--reveal")
    if code != 0:
        STATS["repairs"] += 1
        code, out, err = cli("key", "add", "--org", ORG)
        assert code == 0, err
        code, out, err = cli("key", "show", "--org", ORG, "--reveal")
        assert code == 0, err
    key = json.loads(out)["key"]
    code, out, err = cli("admin", "list", "--org", ORG)
    assert code == 0, err
    login = next(a["loginName"] for a in json.loads(out) if a["id"] == ADMIN_ID)
    return key, login


def login():
    key, username = current_credentials()
    # A fresh millisecond timestamp per attempt: the server refuses a replayed (username, timestamp, key).
    time.sleep(0.002)
    timestamp = str(int(time.time() * 1000))
    response = requests.post(f"{BASE}/api/v1/auth", json={
        "apiKey": obfuscate(key, timestamp), "username": username, "password": PASSWORD, "timestamp": timestamp}, timeout=30)
    assert response.status_code == 200, f"the fuzzing admin cannot log in: {response.status_code} {response.text}"
    STATS["logins"] += 1
    return response.cookies["JSESSIONID"]


@schemathesis.auth(refresh_interval=None)
class KeygateSession:
    """A live JSESSIONID for every case."""

    token = None

    def get(self, case, ctx):
        if KeygateSession.token is not None:
            check = requests.get(f"{BASE}/api/v1/auth", cookies={"JSESSIONID": KeygateSession.token}, timeout=30)
            if check.status_code == 200:
                return KeygateSession.token
        KeygateSession.token = login()
        return KeygateSession.token

    def set(self, case, data, ctx):
        case.cookies = case.cookies or {}
        case.cookies["JSESSIONID"] = data


LOGINS_SEEN = {"stateful": 0}


@schemathesis.hook
def before_call(ctx, case, kwargs):
    """In the stateful phase every other positive login carries the real credentials of the moment (the obfuscated
    key is valid for one timestamp, so no example could), so the login -> list -> edit -> list chains start from a
    real login and its 200 answer (body, Set-Cookie) is checked against the document too."""
    if case.operation.label not in ("POST /api/v1/auth", "POST /api/v1/authenticatedSession"):
        return
    meta = case.meta
    if meta is None or meta.phase.name != "stateful" or meta.generation.mode != "positive":
        return
    LOGINS_SEEN["stateful"] += 1
    if LOGINS_SEEN["stateful"] % 2:
        return
    key, username = current_credentials()
    time.sleep(0.002)
    timestamp = str(int(time.time() * 1000))
    case.body = {"apiKey": obfuscate(key, timestamp), "username": username, "password": PASSWORD, "timestamp": timestamp}
    STATS["logins"] += 1
