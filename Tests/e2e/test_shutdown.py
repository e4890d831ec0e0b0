"""SIGTERM ends `keygate serve` within its bound whatever the database is doing (issue 20: background work under the
service lifecycle; measured before: an instance whose database had gone away was still running 40 s after SIGTERM).

The database is reached through a TCP proxy this test can freeze: frozen, it keeps every connection open and moves no
byte, as a partition or a hung server does, so requests that need the database wait on it. SIGTERM must then end the
process within `server.shutdownGraceSeconds` (graceful first: in-flight requests may finish; then cancellation; then
the process exits anyway), with exit status 0.
"""

import signal
import socket
import threading
import time
import urllib.parse

import pytest
import requests

from test_multi_instance import PG_URL, Cluster, login

pytestmark = pytest.mark.skipif(not PG_URL, reason="needs KEYGATE_TEST_POSTGRES_URL (scripts/test sets it)")

GRACE = 2  # server.shutdownGraceSeconds for the instance under test: the whole bound (KeygateSystem.serve)
SLACK = 2  # process start-up of the signal handling, a loaded machine


class FreezableProxy:
    """Forwards a loopback port to `target`; `frozen` set, it stops moving bytes in both directions."""

    def __init__(self, target):
        self.target = target
        self.frozen = threading.Event()
        self.refusing = threading.Event()
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.sockets = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            if self.refusing.is_set():  # the database is gone: a connection is closed as soon as it opens
                client.close()
                continue
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self.pump, args=(a, b), daemon=True).start()

    def pump(self, source, sink):
        try:
            while True:
                data = source.recv(65536)
                if not data:
                    break
                while self.frozen.is_set():
                    time.sleep(0.01)
                sink.sendall(data)
        except OSError:
            pass

    def pause_accepting(self):
        self.refusing.set()

    def resume_accepting(self):
        self.refusing.clear()

    def reset(self):
        """Drops every open connection (as a database restart does); new ones are accepted."""
        sockets, self.sockets = self.sockets, []
        for s in sockets:
            try:
                s.shutdown(socket.SHUT_RDWR)
                s.close()
            except OSError:
                pass

    def close(self):
        self.frozen.clear()
        self.listener.close()
        self.reset()


def terminate_within_grace(process):
    """SIGTERM, then the process must end with status 0 within the grace period (and a little slack)."""
    sent = time.monotonic()
    process.terminate()
    try:
        status = process.wait(timeout=GRACE + 15)
    except Exception:
        process.kill()
        raise AssertionError(f"keygate serve was still running {GRACE + 15} s after SIGTERM")
    took = time.monotonic() - sent
    assert status == 0, status
    assert took < GRACE + SLACK, took


def proxied_cluster():
    """A cluster whose instances reach PostgreSQL through a FreezableProxy, a tenant on it, and how to undo that."""
    cluster = Cluster()
    cluster.cli("migrate")
    tenant_out = cluster.cli("org", "create", "Acme", "--admin", "root", "--password-stdin", stdin="Multi!passw0rd\n")
    tenant = {"user": "root", "password": "Multi!passw0rd", "key": tenant_out["apiKey"]}
    parts = urllib.parse.urlsplit(cluster.url)
    proxy = FreezableProxy((parts.hostname, parts.port))
    direct_url = cluster.url
    cluster.url = urllib.parse.urlunsplit(parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}"))
    return cluster, tenant, proxy, direct_url


def test_sigterm_ends_the_process_in_bounded_time_while_the_database_does_not_answer():
    cluster, tenant, proxy, direct_url = proxied_cluster()
    try:
        instance = cluster.start(KEYGATE_SERVER_SHUTDOWN_GRACE_SECONDS=str(GRACE))
        session, refused = login(instance, tenant)
        assert session, refused.text
        assert requests.get(instance["base"] + "/health", timeout=10).status_code == 200

        # The database stops answering; requests that need it now wait.
        proxy.frozen.set()
        answers = []

        def ask(path):
            try:
                answers.append(requests.get(instance["base"] + path, cookies={"JSESSIONID": "0" * 32}, timeout=60).status_code)
            except requests.RequestException as error:
                answers.append(type(error).__name__)

        waiting = [threading.Thread(target=ask, args=(path,)) for path in ["/health", "/health", "/api/v1/apiKeys"]]
        for t in waiting:
            t.start()
        time.sleep(1)
        assert not answers, "the requests wait on the frozen database"

        terminate_within_grace(instance["process"])
        for t in waiting:
            t.join(timeout=30)
        # A request still waiting when the grace ends is cancelled with its connection (no answer): never a 500. (Answering
        # 503 within a bound of its own while the database is away is the day-two issue's work, not this test's.)
        assert len(answers) == 3 and all(a in (200, 503, "ConnectionError") for a in answers), answers
    finally:
        proxy.close()
        cluster.url = direct_url
        cluster.close()


def test_after_a_database_outage_the_instance_recovers_and_sigterm_ends_it_within_the_bound():
    """Measured before (issue 20): after a PostgreSQL outage an instance no longer stopped on SIGTERM (still running
    after 30 s; with a bound on cancellation, ServiceLifecycle then crashed it: status -4). Here the database stops
    answering under load for 4 s, then every connection drops (a restart); once the instance answers again, SIGTERM
    ends it within server.shutdownGraceSeconds, status 0. (What the requests during the outage are answered is the
    day-two issue's: today some get 500, and one may wait past the outage.)"""
    cluster, tenant, proxy, direct_url = proxied_cluster()
    try:
        instance = cluster.start(KEYGATE_SERVER_SHUTDOWN_GRACE_SECONDS=str(GRACE))
        session, refused = login(instance, tenant)
        assert session, refused.text
        proxy.frozen.set()
        answers = []

        def ask():
            try:
                answers.append(requests.get(instance["base"] + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=60).status_code)
            except requests.RequestException as error:
                answers.append(type(error).__name__)

        load = [threading.Thread(target=ask) for _ in range(6)]
        for t in load:
            t.start()
        time.sleep(4)
        proxy.frozen.clear()
        proxy.reset()
        for t in load:
            t.join(timeout=10)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                if requests.get(instance["base"] + "/health", timeout=5).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.2)
        else:
            raise AssertionError("the instance did not recover after the database came back")
        fresh, refused = login(instance, tenant)
        assert fresh, refused.text

        terminate_within_grace(instance["process"])
    finally:
        proxy.close()
        cluster.url = direct_url
        cluster.close()


def test_sigint_stops_the_instance_within_the_bound_as_sigterm_does():
    cluster, tenant, proxy, direct_url = proxied_cluster()
    try:
        instance = cluster.start(KEYGATE_SERVER_SHUTDOWN_GRACE_SECONDS=str(GRACE))
        assert requests.get(instance["base"] + "/health", timeout=10).status_code == 200
        sent = time.monotonic()
        instance["process"].send_signal(signal.SIGINT)
        assert instance["process"].wait(timeout=GRACE + 15) == 0
        assert time.monotonic() - sent < GRACE + SLACK
    finally:
        proxy.close()
        cluster.url = direct_url
        cluster.close()
