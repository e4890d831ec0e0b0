"""Prometheus metrics of a real `keygate serve`: a scripted workload through the real protocol, then one scrape that
must hold every metric the operator's dashboards rely on, with the values the workload implies; the Grafana dashboard
and the alert rules in docs/monitoring/ use only metrics that scrape has; and where the scrape is served
(main port, its own port, nowhere)."""

import json
import os
import pathlib
import re
import socket
import time

import pytest
import requests
import yaml

from go_client import obfuscate
from plain_server import PlainServer

ROOT = pathlib.Path(__file__).resolve().parents[2]
PASSWORD = "Metr1cs!pass"


def parse(text):
    """({(name, labels): value}, {name: type}) from a text-format scrape."""
    samples, types = {}, {}
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, name, kind = line.split(" ", 3)
            types[name] = kind
        elif line and not line.startswith("#"):
            series, number = line.rsplit(" ", 1)
            name, _, rest = series.partition("{")
            samples[(name, frozenset(re.findall(r'(\w+)="([^"]*)"', rest)))] = float(number)
    return samples, types


def value(samples, name, **labels):
    return samples.get((name, frozenset(labels.items())))


def login(base, username, key, password=PASSWORD, path="/api/v1/auth", body=None):
    time.sleep(0.002)
    timestamp = str(int(time.time() * 1000))
    body = body or {"apiKey": obfuscate(key, timestamp), "username": username, "password": password, "timestamp": timestamp}
    return requests.post(base + path, json=body, timeout=30), body


def api(base, method, path, session, **kwargs):
    return requests.request(method, base + path, cookies={"JSESSIONID": session}, timeout=30, **kwargs)


@pytest.fixture(scope="module")
def scraped():
    """Runs the workload on a server with small budgets (2 failures per login and address, 5 GETs a second, a 1-second
    ZIA idle timeout, housekeeping every second) and returns (scrape text, parsed samples, types, secrets, the
    in-flight gauge readings)."""
    server = PlainServer(KEYGATE_LOGIN_MAX_FAILURES_PER_PAIR="2", KEYGATE_RATELIMIT_GET_PER_SECOND="5",
                         KEYGATE_SESSION_ZIA_IDLE_SECONDS="1", KEYGATE_HOUSEKEEPING_INTERVAL_SECONDS="1")
    try:
        base = server.base
        org = server.cli("org", "create", "Metrics", "--admin", "ops@metrics", "--password-stdin", stdin=PASSWORD + "\n")
        key, user = org["apiKey"], "ops@metrics"

        # Logins: 2 successes, a replay, 2 wrong guesses (filling the pair budget: one lockout), then
        # one refused as locked.
        first, _ = login(base, user, key)
        second, replayed = login(base, user, key)
        assert first.status_code == 200 and second.status_code == 200
        assert login(base, user, key, body=replayed)[0].status_code == 400
        session, other = first.cookies["JSESSIONID"], second.cookies["JSESSIONID"]
        # (Under a login name of their own: the lockout would otherwise stop this workload's own logins.)
        for _ in range(2):
            assert login(base, "guess@metrics", key, password="Wr0ng!pass")[0].status_code == 400
        locked, _ = login(base, "guess@metrics", key, password="Wr0ng!pass")
        assert locked.status_code == 403 and locked.json()["code"] == "LIMIT_EXCEEDED"

        # A role without API access and its admin (forbidden), a disabled admin (disabled); logins from another
        # address are not possible here, so these use their own login names.
        role = api(base, "POST", "/api/v1/adminRoles", session, json={"name": "No API", "featurePermissions": {"APIKEY_MANAGEMENT": "NONE"}})
        assert role.status_code == 200, role.text
        for login_name, extra in (("noapi@metrics", {"role": {"id": role.json()["id"]}}), ("off@metrics", {"role": "Super Admin", "disabled": True})):
            created = api(base, "POST", "/api/v1/adminUsers", session, json={"loginName": login_name, "password": PASSWORD, **extra})
            assert created.status_code == 200, created.text
        assert login(base, "noapi@metrics", key)[0].status_code == 403
        assert login(base, "off@metrics", key)[0].status_code == 403

        # Reads: 3 lists, then a burst past the 5-a-second GET limit.
        for _ in range(3):
            assert api(base, "GET", "/api/v1/apiKeys", session).status_code == 200
        burst = [api(base, "GET", "/api/v1/ecAdminActivateStatus", session).status_code for _ in range(12)]
        assert 429 in burst
        time.sleep(1.1)

        # Key changes: an edit (ends `other`), a regenerate, then a delete (ends the rest, the caller's too).
        key_id = api(base, "GET", "/api/v1/apiKeys", session).json()[0]["id"]
        edited = api(base, "PUT", f"/api/v1/apiKeys/{key_id}", session, json={"keyValue": "MetricsKey12"})
        assert edited.status_code == 200, edited.text
        assert api(base, "GET", "/api/v1/auth", other).status_code == 401
        assert api(base, "POST", f"/api/v1/apiKeys/{key_id}/regenerate", session).status_code == 200

        # A ZIA session (with the new key) idles past its 1-second timeout and housekeeping (every second) removes it.
        current = api(base, "GET", "/api/v1/apiKeys", session).json()[0]["keyValue"]
        zia, _ = login(base, user, current, path="/api/v1/authenticatedSession")
        assert zia.status_code == 200
        time.sleep(2.5)
        assert api(base, "GET", "/api/v1/authenticatedSession", zia.cookies["JSESSIONID"]).status_code == 401
        # A session that ends by logout.
        third, _ = login(base, user, current)
        assert requests.delete(base + "/auth", cookies={"JSESSIONID": third.cookies["JSESSIONID"]}, timeout=30).status_code == 204
        assert api(base, "DELETE", f"/api/v1/apiKeys/{key_id}", session).status_code == 204

        # The portal: one good sign-in, one bad.
        origin = {"Origin": base}
        good = requests.post(base + "/portal/signin", data={"loginName": user, "password": PASSWORD}, headers=origin,
                             allow_redirects=False, timeout=30)
        bad = requests.post(base + "/portal/signin", data={"loginName": "ops@metrics", "password": "Wr0ng!again1"},
                            headers=origin, allow_redirects=False, timeout=30)
        assert good.status_code in (302, 303) and bad.status_code in (400, 401, 403), (good.status_code, bad.status_code)

        response = requests.get(base + "/metrics", timeout=30)
        assert response.status_code == 200
        assert response.headers["Content-Type"].startswith("text/plain; version=0.0.4")
        samples, types = parse(response.text)
        if os.environ.get("KEYGATE_METRICS_SAMPLE"):  # docs/metrics.md's sample scrape comes from here
            pathlib.Path(os.environ["KEYGATE_METRICS_SAMPLE"]).write_text(response.text)
        # Housekeeping runs every second here, so one scrape may catch its query in flight: read the gauge until it
        # is back at 0 (a leak in the accounting never gets there), keeping every reading.
        in_flight, deadline = [value(samples, "keygate_db_queries_in_flight")], time.monotonic() + 10
        while in_flight[-1] != 0 and time.monotonic() < deadline:
            time.sleep(0.05)
            in_flight.append(value(parse(requests.get(base + "/metrics", timeout=30).text)[0], "keygate_db_queries_in_flight"))
        yield response.text, samples, types, {key, "MetricsKey12", current, PASSWORD, user, session, other}, in_flight
    finally:
        server.close()


def test_logins_lockouts_and_sign_ins_by_outcome(scraped):
    _, s, _, _, _ = scraped
    assert value(s, "keygate_logins_total", outcome="success") == 4
    assert value(s, "keygate_logins_total", outcome="replay") == 1
    assert value(s, "keygate_logins_total", outcome="invalid") == 2
    assert value(s, "keygate_logins_total", outcome="locked") == 1
    assert value(s, "keygate_logins_total", outcome="forbidden") == 1
    assert value(s, "keygate_logins_total", outcome="disabled") == 1
    assert value(s, "keygate_login_lockouts_total", scope="pair") == 1
    assert value(s, "keygate_login_lockouts_total", scope="address") == 0
    assert value(s, "keygate_browser_sign_ins_total", surface="portal", outcome="success") == 1
    assert value(s, "keygate_browser_sign_ins_total", surface="portal", outcome="invalid") == 1
    assert value(s, "keygate_browser_sign_ins_total", surface="console", outcome="success") == 0


def test_sessions_created_ended_by_reason_and_live(scraped):
    _, s, _, _, _ = scraped
    assert value(s, "keygate_sessions_created_total", kind="ztw") == 3
    assert value(s, "keygate_sessions_created_total", kind="zia") == 1
    assert value(s, "keygate_sessions_ended_total", reason="rotation") == 1  # `other`, by the edit
    assert value(s, "keygate_sessions_ended_total", reason="expired") == 1  # the idle ZIA session
    assert value(s, "keygate_sessions_ended_total", reason="logout") == 1
    assert value(s, "keygate_sessions_ended_total", reason="key_deleted") == 1  # the caller's own
    assert value(s, "keygate_sessions_live") == 0


def test_key_changes_rate_limits_and_requests(scraped):
    _, s, _, _, _ = scraped
    assert value(s, "keygate_key_changes_total", kind="edited") == 1
    assert value(s, "keygate_key_changes_total", kind="regenerated") == 1
    assert value(s, "keygate_key_changes_total", kind="deleted") == 1
    assert value(s, "keygate_key_changes_total", kind="added") == 0
    limited = value(s, "keygate_rate_limited_total", **{"class": "get"})
    assert limited >= 1 and value(s, "keygate_rate_limited_total", **{"class": "write"}) == 0
    assert value(s, "keygate_http_requests_total", route="/api/v1/ecAdminActivateStatus", method="GET", status_class="4xx") == limited
    assert value(s, "keygate_http_requests_total", route="/api/v1/apiKeys", method="GET", status_class="2xx") == 5
    assert value(s, "keygate_http_request_duration_seconds_count", route="/api/v1/apiKeys", method="GET", status_class="2xx") == 5
    assert value(s, "keygate_http_requests_total", route="/auth", method="DELETE", status_class="2xx") == 1
    assert value(s, "keygate_http_requests_total", route="/api/v1/auth", method="POST", status_class="2xx") == 3


def test_cache_and_database(scraped):
    _, s, types, _, readings = scraped
    assert value(s, "keygate_session_cache_hits_total") >= 5
    assert value(s, "keygate_session_cache_misses_total") >= 1
    assert value(s, "keygate_session_cache_invalidations_total") >= 1
    assert value(s, "keygate_session_cache_serving") == 1
    assert types["keygate_db_query_duration_seconds"] == "histogram"
    assert value(s, "keygate_db_query_duration_seconds_count", kind="transaction") >= 10
    assert value(s, "keygate_db_query_duration_seconds_count", kind="read") >= 10
    assert value(s, "keygate_db_pool_connections") == 3  # the SQLite writer and two readers
    assert readings[-1] == 0 and all(0 <= r <= 3 for r in readings), readings  # never below 0 or above the pool


def test_no_secret_login_name_or_id_in_the_scrape(scraped):
    text, s, _, secrets, _ = scraped
    for secret in secrets:
        assert secret not in text
    labels = {name for (_, pairs) in s for name, _ in pairs}
    assert labels <= {"route", "method", "status_class", "outcome", "kind", "reason", "scope", "surface", "class", "le"}


def metric_names(expression):
    return set(re.findall(r"\bkeygate_[a-z_]+", expression))


def in_scrape(name, samples, types):
    base = re.sub(r"_(bucket|sum|count)$", "", name)
    return any(n == name for (n, _) in samples) or types.get(base) == "histogram"


def test_the_dashboard_and_alert_rules_use_only_metrics_a_server_exposes(scraped):
    _, samples, types, _, _ = scraped
    dashboard = json.loads((ROOT / "docs" / "monitoring" / "grafana-dashboard.json").read_text())
    used = set()
    for panel in dashboard["panels"]:
        for target in panel["targets"]:
            used |= metric_names(target["expr"])
    rules = yaml.safe_load((ROOT / "docs" / "monitoring" / "prometheus-alerts.yml").read_text())
    alerts = [rule for group in rules["groups"] for rule in group["rules"]]
    for rule in alerts:
        used |= metric_names(rule["expr"])
    assert len(used) >= 15 and len(alerts) >= 8
    missing = sorted(name for name in used if not in_scrape(name, samples, types))
    assert missing == []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_metrics_on_their_own_port_leave_the_main_port_and_can_be_switched_off():
    port = free_port()
    server = PlainServer(KEYGATE_METRICS_PORT=str(port))
    try:
        assert requests.get(server.base + "/metrics", timeout=10).status_code == 404
        own = requests.get(f"http://127.0.0.1:{port}/metrics", timeout=10)
        assert own.status_code == 200 and "keygate_logins_total" in own.text
        assert requests.get(f"http://127.0.0.1:{port}/api/v1/apiKeys", timeout=10).status_code == 404
    finally:
        server.close()
    server = PlainServer(KEYGATE_METRICS_ENABLED="false")
    try:
        refused = requests.get(server.base + "/metrics", timeout=10)
        assert refused.status_code == 404 and refused.json()["code"] == "RESOURCE_NOT_FOUND"
        assert requests.get(server.base + "/health", timeout=10).status_code == 200
    finally:
        server.close()
