"""Several `keygate serve` instances on one PostgreSQL database (the throwaway cluster scripts/test starts).

Each instance keeps the sessions it checks in memory (the session cache) and drops the ones a change affects when
any instance or the CLI announces it (PostgreSQL NOTIFY). A change is therefore in force on its own instance at the
very next request, and on the others once the announcement arrives, and in any case within CHANGE_BOUND (the
cache's 2 s maximum age: the bound the README states). These tests warm the other instance's cache first, then hold
the documented bound exactly however loaded the machine is: every request *sent* later than the bound after the
change must be refused. That the announcement, not the age limit, is what normally ends the session is shown with a
clock that stands still (Tests/KeygateServerTests/SessionCacheTests.swift) and measured by scripts/bench/run.
"""

import glob
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import urllib.parse
import uuid

import pytest
import requests

from conftest import keygate_binary

PG_URL = os.environ.get("KEYGATE_TEST_POSTGRES_URL")
pytestmark = pytest.mark.skipif(not PG_URL, reason="needs KEYGATE_TEST_POSTGRES_URL (scripts/test sets it)")


def psql():
    found = shutil.which("psql") or sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))[-1]
    return found


def obfuscate(key, now):
    n = str(now)[-6:]
    r = str(int(n) >> 1).zfill(6)
    return "".join(key[int(c)] for c in n) + "".join(key[int(c) + 2] for c in r)


class Cluster:
    """A fresh database, a shared master key, and instances started on demand."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="keygate-multi-")
        name = "kg_e2e_" + uuid.uuid4().hex[:12]
        subprocess.run([psql(), PG_URL, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
        parts = urllib.parse.urlsplit(PG_URL)
        self.name = name
        self.url = urllib.parse.urlunsplit(parts._replace(path="/" + name))
        self.master_key = os.path.join(self.dir, "master.key")
        # Private to its owner, as Keygate requires of a key file (as `umask 077; openssl rand -hex 32` makes it).
        with open(os.open(self.master_key, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:
            f.write(os.urandom(32).hex() + "\n")
        self.env = dict(os.environ, KEYGATE_SECURITY_BCRYPT_COST="6", KEYGATE_RATELIMIT_PRESET="off",
                        KEYGATE_LOG_LEVEL="warning")
        self.instances = []

    def cli(self, *args, stdin=None):
        out = subprocess.run([keygate_binary(), *args, "--database", self.url, "--master-key-file", self.master_key, "--json"],
                             input=stdin, capture_output=True, text=True, env=self.env, timeout=120)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def spawn(self, demo=False, **env):
        log = open(os.path.join(self.dir, f"instance{len(self.instances)}.log"), "w")
        process = subprocess.Popen([keygate_binary(), "serve", "--port", "0", "--json", "--database", self.url,
                                    "--master-key-file", self.master_key] + ([] if demo else ["--no-demo"]),
                                   stdout=subprocess.PIPE, stderr=log, text=True, env=dict(self.env, **env))
        self.instances.append({"process": process})
        return process, log

    def start(self, **env):
        process, log = self.spawn(**env)
        line = process.stdout.readline()
        assert line.startswith("{"), open(log.name).read()
        instance = self.instances[-1]
        instance["base"] = f"http://127.0.0.1:{json.loads(line)['port']}"
        return instance

    def close(self):
        for instance in self.instances:
            if instance["process"].poll() is None:
                instance["process"].terminate()
                instance["process"].wait(timeout=20)
        subprocess.run([psql(), PG_URL, "-q", "-c", f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster():
    c = Cluster()
    c.cli("migrate")
    yield c
    c.close()


@pytest.fixture
def tenant(cluster):
    out = cluster.cli("org", "create", "Acme", "--admin", "root", "--password-stdin", stdin="Multi!passw0rd\n")
    return {"user": "root", "password": "Multi!passw0rd", "key": out["apiKey"]}


def login(instance, tenant, key=None):
    key = key or tenant["key"]
    now = int(time.time() * 1000)
    response = requests.post(instance["base"] + "/api/v1/auth", json={
        "apiKey": obfuscate(key, now), "username": tenant["user"], "password": tenant["password"], "timestamp": now})
    if response.status_code != 200:
        return None, response
    return re.search(r"JSESSIONID=(.*?);", response.headers["Set-Cookie"]).group(1), response


def call(instance, method, path, session, **kwargs):
    return requests.request(method, instance["base"] + "/api/v1" + path, headers={"Cookie": f"JSESSIONID={session}"}, **kwargs)


CHANGE_BOUND = 2.0  # seconds: the session cache's maximum age, the README's bound for a change reaching an instance


def warm(instance, session):
    """Checks the session twice on `instance`, so that it is now served from that instance's cache."""
    assert requests.get(instance["base"] + "/health").json()["sessionCache"] == "live"
    for _ in range(2):
        assert call(instance, "GET", "/apiKeys", session).status_code == 200


def refused_within(instance, session, since=None, bound=CHANGE_BOUND):
    """Polls until `instance` refuses `session`: a request sent more than `bound` s after `since` (the change's
    answer; default now) must be refused. Returns how long the refusal took."""
    start = since if since is not None else time.monotonic()
    while True:
        sent = time.monotonic()
        status = call(instance, "GET", "/apiKeys", session).status_code
        if status != 200:
            break
        assert sent - start <= bound, f"{instance['base']} accepted the session {sent - start:.2f} s after the change"
    assert status == 401
    return time.monotonic() - start


def test_a_session_made_on_one_instance_works_on_another_and_ends_everywhere(cluster, tenant):
    a, b = cluster.start(), cluster.start()
    session, _ = login(a, tenant)
    assert call(b, "GET", "/apiKeys", session).json()[0]["keyValue"] == tenant["key"]
    warm(a, session)
    assert requests.delete(b["base"] + "/auth", headers={"Cookie": f"JSESSIONID={session}"}).status_code == 204
    refused_within(a, session)


def test_the_cache_goes_off_while_its_database_channel_is_down_and_comes_back(cluster, tenant):
    """Killing an instance's LISTEN connection suspends its cache (health says so) until it listens again."""
    a = cluster.start()
    session, _ = login(a, tenant)
    warm(a, session)
    killed = subprocess.run([psql(), cluster.url, "-qtA", "-c",
                             "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                             "WHERE datname = current_database() AND query ILIKE 'LISTEN%'"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert killed == "1"
    states, start = set(), time.monotonic()
    while time.monotonic() - start < 10:
        state = requests.get(a["base"] + "/health").json()["sessionCache"]
        states.add(state)
        if state == "live" and "suspended" in states:
            break
        assert call(a, "GET", "/apiKeys", session).status_code == 200  # served from the database meanwhile
    assert states == {"suspended", "live"}, states


def test_an_edit_on_one_instance_ends_old_sessions_on_the_other_within_the_bound(cluster, tenant):
    a, b = cluster.start(), cluster.start()
    editor, _ = login(a, tenant)
    bystander, _ = login(b, tenant)
    neighbour, _ = login(a, tenant)
    key_id = call(a, "GET", "/apiKeys", editor).json()[0]["id"]
    warm(b, bystander)
    warm(b, editor)
    warm(a, neighbour)
    edited = call(a, "PUT", f"/apiKeys/{key_id}", editor, json={"keyValue": "Across0Nodes"})
    assert edited.status_code == 200
    # On the instance that made the change: the very next request.
    assert call(a, "GET", "/apiKeys", neighbour).status_code == 401
    # On the other: within the bound, and its cached copy of the editor's session shows the new key as soon.
    refused_within(b, bystander)
    assert call(b, "GET", "/apiKeys", editor).json()[0]["keyValue"] == "Across0Nodes"
    assert login(b, tenant)[1].status_code == 400
    assert login(b, tenant, key="Across0Nodes")[0] is not None


def test_cli_disable_stops_sessions_on_every_instance(cluster, tenant):
    a, b = cluster.start(), cluster.start()
    sessions = [login(a, tenant)[0], login(b, tenant)[0]]
    for instance in (a, b):
        for session in sessions:
            warm(instance, session)
    cluster.cli("key", "disable", "--org", "Acme")
    changed = time.monotonic()
    for instance in (a, b):
        for session in sessions:
            refused_within(instance, session, since=changed)
    assert login(a, tenant)[1].status_code == 403


def test_simultaneous_rotations_on_two_instances_leave_one_key_and_a_consistent_audit_trail(cluster, tenant):
    cluster.cli("org", "set-rotation-policy", "--org", "Acme", "--policy", "keep")
    a, b = cluster.start(), cluster.start()
    session_a, session_b = login(a, tenant)[0], login(b, tenant)[0]
    key_id = call(a, "GET", "/apiKeys", session_a).json()[0]["id"]
    barrier = threading.Barrier(12)
    results = []

    def rotate(instance, session):
        barrier.wait()
        response = call(instance, "POST", f"/apiKeys/{key_id}/regenerate", session)
        results.append((response.status_code, response.json().get("code")))

    threads = [threading.Thread(target=rotate, args=((a, session_a) if i % 2 else (b, session_b))) for i in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wins = sum(1 for status, _ in results if status == 200)
    print("rotation race:", sorted(results, key=str))
    losses = [code for status, code in results if status != 200]
    assert wins >= 1
    assert all(code == "EDIT_LOCK_NOT_AVAILABLE" for code in losses), results
    keys = call(b, "GET", "/apiKeys", session_b).json()
    assert len(keys) == 1
    shown = cluster.cli("key", "show", "--org", "Acme", "--reveal")
    assert shown["key"] == keys[0]["keyValue"]
    assert shown["version"] == 1 + wins
    rotations = cluster.cli("audit", "--org", "Acme", "--action", "key.regenerated", "--limit", "100")
    assert len(rotations) == wins


def test_an_instance_killed_mid_rotation_leaves_the_database_consistent_and_the_others_serving(cluster, tenant):
    cluster.cli("org", "set-rotation-policy", "--org", "Acme", "--policy", "keep")
    a, b = cluster.start(), cluster.start()
    session = login(a, tenant)[0]
    key_id = call(a, "GET", "/apiKeys", session).json()[0]["id"]
    stop = threading.Event()

    def hammer():
        while not stop.is_set():
            try:
                call(a, "POST", f"/apiKeys/{key_id}/regenerate", session, timeout=5)
            except requests.RequestException:
                return

    workers = [threading.Thread(target=hammer) for _ in range(4)]
    for w in workers:
        w.start()
    time.sleep(1.0)
    a["process"].send_signal(signal.SIGKILL)
    a["process"].wait(timeout=10)
    stop.set()
    for w in workers:
        w.join(timeout=10)
    # B keeps serving the same session, and the key row, its version and the audit trail agree.
    keys = call(b, "GET", "/apiKeys", session)
    assert keys.status_code == 200 and len(keys.json()) == 1
    shown = cluster.cli("key", "show", "--org", "Acme", "--reveal")
    rotations = cluster.cli("audit", "--org", "Acme", "--action", "key.regenerated", "--limit", "10000")
    assert shown["version"] == 1 + len(rotations) and len(rotations) > 0
    assert shown["key"] == keys.json()[0]["keyValue"]
    assert login(b, tenant, key=shown["key"])[0] is not None


def test_request_limits_hold_across_instances_not_once_per_instance(cluster, tenant):
    limits = {"KEYGATE_RATELIMIT_PRESET": "generous", "KEYGATE_RATELIMIT_GET_PER_HOUR": "6"}
    a, b = cluster.start(**limits), cluster.start(**limits)
    session = login(a, tenant)[0]
    statuses = [call(a if i % 2 else b, "GET", "/auth", session).status_code for i in range(8)]
    assert statuses == [200] * 6 + [429, 429], statuses
    limited = call(b, "GET", "/apiKeys", session)
    assert limited.status_code == 429 and int(limited.headers["Retry-After"]) > 0
    assert limited.json()["message"] == "Rate Limit (6/HOUR) exceeded"


def test_login_lockouts_hold_across_instances(cluster, tenant):
    lockout = {"KEYGATE_LOGIN_MAX_FAILURES_PER_PAIR": "3"}
    a, b = cluster.start(**lockout), cluster.start(**lockout)
    wrong = dict(tenant, password="Wrong!passw0rd")
    assert login(a, wrong)[1].status_code == 400
    assert login(b, wrong)[1].status_code == 400
    assert login(a, wrong)[1].status_code == 400
    refused = login(b, tenant)[1]
    # 403, not 429: the Go SDK would sleep Retry-After (the whole lock) up to 100 times before failing.
    assert refused.status_code == 403 and refused.json()["code"] == "LIMIT_EXCEEDED"
    assert int(refused.headers["Retry-After"]) > 0


def test_migrate_data_moves_an_embedded_sqlite_deployment_into_postgresql(cluster, tmp_path):
    sqlite = str(tmp_path / "embedded.sqlite")
    run = lambda *args, stdin=None: subprocess.run(  # noqa: E731
        [keygate_binary(), *args], input=stdin, capture_output=True, text=True, env=cluster.env, timeout=120)
    # Only `migrate` (or `serve`) creates a database; then the provider provisions into it.
    assert run("migrate", "--database", sqlite, "--master-key-file", cluster.master_key).returncode == 0
    created = run("org", "create", "Solo", "--admin", "root", "--password-stdin", "--database", sqlite,
                  "--master-key-file", cluster.master_key, "--json", stdin="Multi!passw0rd\n")
    assert created.returncode == 0, created.stderr
    key = json.loads(created.stdout)["apiKey"]
    # A live session on the embedded deployment, to see it survive the move.
    old = subprocess.Popen([keygate_binary(), "serve", "--port", "0", "--no-demo", "--json", "--database", sqlite,
                            "--master-key-file", cluster.master_key], stdout=subprocess.PIPE, text=True, env=cluster.env)
    instance = {"base": f"http://127.0.0.1:{json.loads(old.stdout.readline())['port']}"}
    tenant = {"user": "root", "password": "Multi!passw0rd", "key": key}
    session = login(instance, tenant)[0]
    old.terminate()
    old.wait(timeout=20)

    # The cluster fixture migrated its database but provisioned nothing: an empty target.
    moved = run("migrate-data", "--from", sqlite, "--to", cluster.url, "--batch-size", "2", "--json")
    assert moved.returncode == 0, moved.stderr
    counts = {row["table"]: (row["source"], row["target"]) for row in json.loads(moved.stdout)}
    assert all(source == target for source, target in counts.values()) and counts["organizations"] == ("1", "1")
    assert "organizations" in moved.stderr  # the progress report

    new = cluster.start()
    assert call(new, "GET", "/apiKeys", session).json()[0]["keyValue"] == key
    assert login(new, tenant)[0] is not None
    again = run("migrate-data", "--from", sqlite, "--to", cluster.url)
    assert again.returncode != 0 and "already holds organizations" in again.stderr


def test_two_instances_starting_together_on_a_new_database_both_come_up_with_one_demo(cluster):
    spawned = [cluster.spawn(demo=True) for _ in range(2)]
    banners = []
    for process, log in spawned:
        line = process.stdout.readline()
        assert line.startswith("{"), open(log.name).read()
        banners.append(json.loads(line))
    assert sum("apiKey" in banner for banner in banners) == 1
    assert [org["name"] for org in cluster.cli("org", "list")] == ["Demo"]


def test_sigterm_drains_then_closes_the_pool_and_exits_cleanly(cluster, tenant):
    """The pool is the last service to stop: after SIGTERM the instance exits 0 and leaves no connection behind."""
    a = cluster.start()
    session, _ = login(a, tenant)
    warm(a, session)

    def connections():
        return int(subprocess.run([psql(), cluster.url, "-qtA", "-c",
                                   "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                   "AND pid <> pg_backend_pid()"], capture_output=True, text=True, check=True).stdout)

    assert connections() >= 2  # at least a pooled connection and the LISTEN one
    process = cluster.instances[-1]["process"]
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=20) == 0
    deadline = time.monotonic() + 5
    while connections() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert connections() == 0


def test_a_database_password_never_reaches_the_banner_or_migrate_output(cluster):
    # The throwaway cluster trusts every local login, so any password is accepted: what matters is that none is shown.
    url = cluster.url.replace("keygate@", "keygate:hunter2pw@", 1)
    assert "hunter2pw" in url
    migrated = subprocess.run([keygate_binary(), "migrate", "--database", url, "--master-key-file", cluster.master_key, "--json"],
                              capture_output=True, text=True, env=cluster.env, timeout=120)
    assert migrated.returncode == 0, migrated.stderr
    assert "hunter2pw" not in migrated.stdout + migrated.stderr
    assert "keygate:***@" in json.loads(migrated.stdout)["database"]
    process = subprocess.Popen([keygate_binary(), "serve", "--port", "0", "--json", "--no-demo", "--database", url,
                                "--master-key-file", cluster.master_key], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               text=True, env=cluster.env)
    try:
        banner = process.stdout.readline()
        assert banner.startswith("{"), process.stderr.read()
        assert "hunter2pw" not in banner and "keygate:***@" in json.loads(banner)["database"]
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert "hunter2pw" not in err


def test_each_instance_counts_its_own_work_and_sees_every_live_session_in_its_scrape(cluster, tenant):
    """Metrics on PostgreSQL: each instance counts what it served, the live-session gauge counts the shared
    database, and the pool gauge is the URL's pool size."""
    a = cluster.start()
    b = cluster.start()
    session_a, _ = login(a, tenant)
    session_b, _ = login(b, tenant)
    for _ in range(3):
        assert call(a, "GET", "/apiKeys", session_a).status_code == 200

    def scrape(instance):
        text = requests.get(instance["base"] + "/metrics").text
        return {line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line and not line.startswith("#")}

    on_a, on_b = scrape(a), scrape(b)
    assert on_a['keygate_logins_total{outcome="success"}'] == 1 and on_b['keygate_logins_total{outcome="success"}'] == 1
    assert on_a['keygate_http_requests_total{route="/api/v1/apiKeys",method="GET",status_class="2xx"}'] == 3
    assert 'keygate_http_requests_total{route="/api/v1/apiKeys",method="GET",status_class="2xx"}' not in on_b
    assert on_a["keygate_sessions_live"] == 2 and on_b["keygate_sessions_live"] == 2
    assert on_a["keygate_db_pool_connections"] == 20
    assert on_a['keygate_db_query_duration_seconds_count{kind="transaction"}'] >= 1


def test_master_key_rotation_with_two_instances_under_load_loses_no_request(cluster):
    """Both instances read the same key files; `rotate` installs the new key, waits until both seal with it (their
    heartbeats), re-seals every stored key, and verifies; meanwhile clients on both instances see no failure."""
    from test_master_key import PASSWORD, Load
    orgs = {}
    for i in range(40):
        out = cluster.cli("org", "create", f"Rot{i}", "--admin", f"rot{i}", "--password-stdin", stdin=PASSWORD + "\n")
        orgs[f"Rot{i}"] = (f"rot{i}", out["apiKey"])
    a, b = cluster.start(), cluster.start()
    new_key = os.path.join(cluster.dir, "new.key")
    subprocess.run([keygate_binary(), "master-key", "generate", "--out", new_key], check=True, capture_output=True)
    with Load([a["base"], b["base"]], orgs) as load:
        time.sleep(1)
        out = cluster.cli("master-key", "rotate", "--new-key-file", new_key, "--batch", "5")
        time.sleep(1)
    assert load.failures == [] and load.ok > 50, (load.failures[:5], load.ok)
    status = cluster.cli("master-key", "status")
    assert status["storedKeys"] == {out["keyId"]: 40}
    assert sorted(s["sealsWith"] for s in status["servers"]) == [out["keyId"]] * 2


def test_usage_counted_on_two_instances_sums_exactly(cluster, tenant):
    """Each instance counts the requests it served and adds them to the shared rows on its flush."""
    a = cluster.start(KEYGATE_USAGE_FLUSH_SECONDS="1")
    b = cluster.start(KEYGATE_USAGE_FLUSH_SECONDS="1")
    session_a, _ = login(a, tenant)
    session_b, _ = login(b, tenant)
    for _ in range(13):
        assert call(a, "GET", "/apiKeys", session_a).status_code == 200
    for _ in range(8):
        assert call(b, "GET", "/apiKeys", session_b).status_code == 200
        assert call(b, "GET", "/apiKeys", session_a).status_code == 200
    # Both instances write their counts every second: wait for the total (a deadline a loaded CI machine cannot miss),
    # then it must be exact.
    deadline = time.time() + 30
    report = cluster.cli("usage", "--org", "Acme")
    while report["today"] < 29 and time.time() < deadline:
        time.sleep(0.5)
        report = cluster.cli("usage", "--org", "Acme")
    assert report["today"] == 29 and report["admins"][0]["loginName"] == "root"


def test_webhooks_from_two_instances_lose_no_event_and_never_send_one_attempt_twice_at_once(cluster, tenant):
    """Both instances deliver from the same outbox; the receiver answers slowly (to widen any window) and records
    overlapping requests for one event."""
    from test_webhooks import Receiver
    receiver = Receiver()
    receiver.delay = 0.2
    env = {"KEYGATE_WEBHOOKS_ALLOW_HTTP": "true", "KEYGATE_WEBHOOKS_ALLOW_PRIVATE_TARGETS": "true"}
    a, b = cluster.start(**env), cluster.start(**env)
    try:
        session, _ = login(a, tenant)
        created = call(a, "POST", "/webhooks", session, json={"url": receiver.url, "events": ["key.regenerated"]})
        assert created.status_code == 200, created.text
        key_id = call(a, "GET", "/apiKeys", session).json()[0]["id"]
        for i in range(20):
            # The caller's session moves to each new key, so one session drives every rotation, on both instances.
            assert call(a if i % 2 else b, "POST", f"/apiKeys/{key_id}/regenerate", session).status_code == 200
        deadline = time.time() + 60
        while time.time() < deadline and len(receiver.requests) < 20:
            time.sleep(0.2)
        time.sleep(2)
        ids = [r["headers"]["webhook-id"] for r in receiver.requests]
        assert len(set(ids)) == 20 and len(ids) == 20, len(ids)
        assert receiver.overlaps == []
    finally:
        receiver.close()
