"""API usage per organization, admin, day and key version: after a flush, `keygate usage` matches a scripted workload
exactly; a graceful stop flushes what was counted; the portal shows it. Two instances on PostgreSQL sum in
test_multi_instance.py."""

import json
import re
import signal
import subprocess
import time

import requests

from conftest import keygate_binary
import legacy_api
from plain_server import PlainServer

PASSWORD = "Usage!passw0rd"


def login(base, user, key):
    return legacy_api.session(base, user, key, PASSWORD)


def get(base, path, session):
    return requests.get(base + path, cookies={"JSESSIONID": session}, timeout=30)


def usage(server, org, days=7):
    result = subprocess.run([keygate_binary(), "usage", "--org", org, "--days", str(days), "--database", server.database, "--json"],
                            capture_output=True, text=True, env=server.env, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_usage_matches_a_scripted_workload_exactly_after_a_flush_and_shows_on_the_portal():
    server = PlainServer(KEYGATE_USAGE_FLUSH_SECONDS="1", KEYGATE_RATELIMIT_PRESET="off")
    try:
        base = server.base
        key = server.cli("org", "create", "Metered", "--admin", "ops@metered", "--password-stdin", stdin=PASSWORD + "\n")["apiKey"]
        server.cli("admin", "create", "--org", "Metered", "--login", "bot@metered", "--password-stdin", stdin=PASSWORD + "\n")
        ops, bot = login(base, "ops@metered", key), login(base, "bot@metered", key)
        for _ in range(25):
            assert get(base, "/api/v1/apiKeys", ops).status_code == 200
        for _ in range(10):
            assert get(base, "/api/v1/authenticatedSession", bot).status_code == 200
        # Requests that never pass the session check are not usage.
        for _ in range(5):
            assert get(base, "/api/v1/apiKeys", "0" * 32).status_code == 401
        key_id = get(base, "/api/v1/apiKeys", ops).json()[0]["id"]  # ops: 26
        new = requests.put(base + f"/api/v1/apiKeys/{key_id}", json={"keyValue": "MeteredKey01"}, cookies={"JSESSIONID": ops},
                           timeout=30)
        assert new.status_code == 200  # ops: 27, still under version 1; bot's session ends
        for _ in range(7):
            assert get(base, "/api/v1/apiKeys", ops).status_code == 200  # ops: 34, 7 of them under version 2
        bot = login(base, "bot@metered", "MeteredKey01")
        for _ in range(4):
            assert get(base, "/api/v1/ecAdminActivateStatus", bot).status_code == 200  # bot: 14, 4 under version 2
        # Written every second (this server's usage.flushSeconds): wait for the total, within a deadline a loaded CI
        # machine cannot miss; the exact figures below must then hold (nothing counted twice, nothing lost).
        deadline = time.time() + 30
        report = usage(server, "Metered")
        while report["today"] < 48 and time.time() < deadline:
            time.sleep(0.5)
            report = usage(server, "Metered")
        assert report["today"] == 48 and report["period"] == 48
        assert {a["loginName"]: (a["today"], a["period"]) for a in report["admins"]} == {"ops@metered": (34, 34), "bot@metered": (14, 14)}
        assert [(d["keyVersion"], d["requests"]) for d in report["byDay"]] == [(1, 37), (2, 11)]
        text = subprocess.run([keygate_binary(), "usage", "--org", "Metered", "--database", server.database], capture_output=True,
                              text=True, env=server.env, timeout=60).stdout
        assert "48 API requests today" in text and re.search(r"ops@metered\s+34\s+34", text)

        portal = requests.Session()
        signed = portal.post(base + "/portal/signin", data={"loginName": "ops@metered", "password": PASSWORD},
                             headers={"Origin": base}, timeout=30)
        assert signed.status_code == 200, signed.status_code
        assert '<strong id="usage-today">48</strong>' in signed.text and '<strong id="usage-week">48</strong>' in signed.text

        # The provider console's organization page shows the same figures.
        operator = server.cli("provider", "create-operator", "--login", "ops-console")
        console = requests.Session()
        assert console.post(base + "/provider/signin", data={"loginName": "ops-console", "password": operator["password"]},
                            headers={"Origin": base}, timeout=30).status_code == 200
        org_id = next(o["id"] for o in server.cli("org", "list") if o["name"] == "Metered")
        page = console.get(f"{base}/provider/orgs/{org_id}", timeout=30).text
        assert '<strong id="usage-today">48</strong>' in page and re.search(r'<td data-label="Admin">bot@metered</td><td data-label="Today">14</td>', page)
    finally:
        server.close()


def test_a_graceful_stop_flushes_what_was_counted():
    server = PlainServer(KEYGATE_USAGE_FLUSH_SECONDS="3600")
    try:
        key = server.cli("org", "create", "Stopping", "--admin", "ops@stopping", "--password-stdin", stdin=PASSWORD + "\n")["apiKey"]
        session = login(server.base, "ops@stopping", key)
        for _ in range(12):
            assert get(server.base, "/api/v1/apiKeys", session).status_code == 200
        assert usage(server, "Stopping")["today"] == 0  # an hour's interval: nothing written yet
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=30) == 0
        assert usage(server, "Stopping")["today"] == 12
    finally:
        server.close()
