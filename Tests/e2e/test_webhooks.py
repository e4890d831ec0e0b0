"""Lifecycle webhooks against a real HTTP receiver (a small server in the test): a key edit delivers one signed event
that the test verifies with the Standard Webhooks reference library (`standardwebhooks` from PyPI, unmodified); a receiver down for a while gets the event later, with attempts
> 1; a server SIGKILLed right after the change commits still delivers after a restart; the SSRF guard; secret rolls;
the test event, the delivery log and a manual retry. Two instances on PostgreSQL: test_multi_instance.py."""

import http.server
import json
import os
import signal
import subprocess
import threading
import time

import requests
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

import legacy_api
from plain_server import PlainServer

PASSWORD = "Hooks!passw0rd"


class Receiver:
    """A local HTTP receiver that records every request; `status` is what it answers; `delay` how long it takes."""

    def __init__(self, port=0):
        self.requests, self.status, self.delay = [], 200, 0.0
        self.in_flight, self.overlaps = {}, []
        self.lock = threading.Lock()
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                event = self.headers.get("webhook-id")
                with receiver.lock:
                    if receiver.in_flight.get(event):
                        receiver.overlaps.append(event)
                    receiver.in_flight[event] = True
                time.sleep(receiver.delay)
                with receiver.lock:
                    receiver.in_flight[event] = False
                    receiver.requests.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()

    def events(self, type_=None):
        return [r for r in self.requests if type_ is None or r["headers"]["keygate-event-type"] == type_]


def verify(request, secret):
    """What a receiver does: the Standard Webhooks reference library, with the endpoint's secret as shown, over the raw
    body and the headers as received (it also refuses a timestamp more than 5 minutes off)."""
    try:
        Webhook(secret).verify(request["body"], request["headers"])
        return True
    except WebhookVerificationError:
        return False


def wait_for(condition, timeout=20):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def login(base, user, key):
    return legacy_api.session(base, user, key, PASSWORD)


def api(base, method, path, session, **kwargs):
    return requests.request(method, base + "/api/v1" + path, cookies={"JSESSIONID": session}, timeout=30, **kwargs)


def hooks_server(**env):
    return PlainServer(KEYGATE_WEBHOOKS_ALLOW_HTTP="true", KEYGATE_WEBHOOKS_ALLOW_PRIVATE_TARGETS="true",
                       KEYGATE_WEBHOOKS_RETRY_BASE_SECONDS="1", KEYGATE_RATELIMIT_PRESET="off", **env)


def tenant(server, name="Hooked"):
    key = server.cli("org", "create", name, "--admin", f"ops@{name.lower()}", "--password-stdin", stdin=PASSWORD + "\n")["apiKey"]
    return f"ops@{name.lower()}", key


def test_a_key_edit_delivers_one_signed_event_that_verifies_and_holds_no_secret():
    receiver, server = Receiver(), hooks_server()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        created = api(server.base, "POST", "/webhooks", session, json={"url": receiver.url, "events": ["key.edited", "sessions.ended_by_rotation"]})
        assert created.status_code == 200, created.text
        secret = created.json()["secret"]
        assert secret.startswith("whsec_") and api(server.base, "GET", "/webhooks", session).json()[0].get("secret") is None
        other = login(server.base, user, key)  # ended by the edit: one sessions.ended_by_rotation event
        key_id = api(server.base, "GET", "/apiKeys", session).json()[0]["id"]
        assert api(server.base, "PUT", f"/apiKeys/{key_id}", session, json={"keyValue": "HookedKey123"}).status_code == 200
        assert wait_for(lambda: len(receiver.events("key.edited")) == 1 and len(receiver.events("sessions.ended_by_rotation")) == 1)
        time.sleep(1.5)
        assert len(receiver.requests) == 2  # exactly once each, nothing for the other types
        edited = receiver.events("key.edited")[0]
        assert verify(edited, secret) and not verify(edited, "whsec_" + "A" * 44)
        payload = json.loads(edited["body"])
        assert payload["type"] == "key.edited" and payload["id"] == edited["headers"]["webhook-id"]
        assert abs(time.time() - int(edited["headers"]["webhook-timestamp"])) < 60
        assert payload["actor"]["name"] == user and edited["headers"]["keygate-delivery-attempt"] == "1"
        ended = json.loads(receiver.events("sessions.ended_by_rotation")[0]["body"])
        assert ended["data"]["count"] == 1
        for request in receiver.requests:
            for secret_text in (key, "HookedKey123", PASSWORD, secret, session, other):
                assert secret_text.encode() not in request["body"]
        log = api(server.base, "GET", f"/webhooks/{created.json()['id']}/deliveries", session).json()
        assert [d["status"] for d in log] == ["delivered", "delivered"] and all(d["lastStatusCode"] == 200 for d in log)
    finally:
        server.close()
        receiver.close()


def test_a_receiver_that_is_down_gets_the_event_later_with_attempts_above_one():
    probe = Receiver()  # a free port, then nobody listens on it
    port = probe.port
    probe.close()
    server = hooks_server()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        endpoint = api(server.base, "POST", "/webhooks", session, json={"url": f"http://127.0.0.1:{port}/hook", "events": ["key.regenerated"]}).json()
        key_id = api(server.base, "GET", "/apiKeys", session).json()[0]["id"]
        assert api(server.base, "POST", f"/apiKeys/{key_id}/regenerate", session).status_code == 200
        assert wait_for(lambda: api(server.base, "GET", f"/webhooks/{endpoint['id']}/deliveries", session).json()[0]["attempts"] >= 2)
        failing = api(server.base, "GET", f"/webhooks/{endpoint['id']}/deliveries", session).json()[0]
        assert failing["status"] == "pending" and failing.get("lastStatusCode") is None
        # A coarse class, and no timing: the log cannot map what is behind a target.
        assert failing["lastError"] == "target unreachable" and failing.get("lastDurationMs") is None
        receiver = Receiver(port)
        try:
            assert wait_for(lambda: len(receiver.events("key.regenerated")) == 1, timeout=30)
            attempt = int(receiver.events()[0]["headers"]["keygate-delivery-attempt"])
            assert attempt > 1 and verify(receiver.events()[0], endpoint["secret"])
            time.sleep(1)
            delivered = api(server.base, "GET", f"/webhooks/{endpoint['id']}/deliveries", session).json()[0]
            assert delivered["status"] == "delivered" and delivered["attempts"] == attempt
        finally:
            receiver.close()
    finally:
        server.close()


def test_a_server_killed_right_after_the_change_commits_still_delivers_after_a_restart():
    receiver = Receiver()
    receiver.status = 503  # the first attempts fail, so nothing is delivered before the kill
    server = hooks_server()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        api(server.base, "POST", "/webhooks", session, json={"url": receiver.url, "events": ["key.deleted"]})
        key_id = api(server.base, "GET", "/apiKeys", session).json()[0]["id"]
        assert api(server.base, "DELETE", f"/apiKeys/{key_id}", session).status_code == 204
        server.process.send_signal(signal.SIGKILL)
        server.process.wait(timeout=10)
        receiver.status = 200
        restarted = subprocess.Popen(server.process.args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=server.env)
        try:
            assert wait_for(lambda: len(receiver.events("key.deleted")) >= 1, timeout=30)
            ids = {r["headers"]["webhook-id"] for r in receiver.events("key.deleted")}
            assert len(ids) == 1  # one event, perhaps tried more than once
        finally:
            restarted.terminate()
            restarted.wait(timeout=20)
    finally:
        server.close()
        receiver.close()


def test_targets_must_be_public_https_unless_the_operator_allows_otherwise():
    server = PlainServer()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        for url in ("http://example.com/hook", "https://127.0.0.1/hook", "https://10.1.2.3/x", "https://[::1]/x", "https://169.254.169.254/latest",
                    "https://localhost/x", "https://user:pw@example.com/x", "ftp://example.com", "not a url", "https://2130706433/hook",
                    "https://0x7f.1/hook", "https://[::127.0.0.1]/hook", "https://[::ffff:0:127.0.0.1]/hook", "https://[2002:7f00:1::]/hook",
                    "https://[2002:c0a8:101::1]/hook", "https://192.0.2.1/hook", "https://198.51.100.1/hook"):
            refused = api(server.base, "POST", "/webhooks", session, json={"url": url})
            assert refused.status_code == 400 and refused.json()["code"] == "INVALID_INPUT_ARGUMENT", (url, refused.text)
        assert api(server.base, "GET", "/webhooks", session).json() == []
        accepted = api(server.base, "POST", "/webhooks", session, json={"url": "https://hooks.example.com/keygate"})
        assert accepted.status_code == 200 and accepted.json()["events"][0] == "key.added"
        bad_events = api(server.base, "POST", "/webhooks", session, json={"url": "https://hooks.example.com/k", "events": ["key.stolen"]})
        assert bad_events.status_code == 400
    finally:
        server.close()


def test_a_rolled_secret_signs_next_to_the_old_one_and_test_events_and_retries_work():
    receiver, server = Receiver(), hooks_server()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        endpoint = api(server.base, "POST", "/webhooks", session, json={"url": receiver.url}).json()
        rolled = api(server.base, "POST", f"/webhooks/{endpoint['id']}/rollSecret", session)
        assert rolled.status_code == 200 and rolled.json()["secret"] != endpoint["secret"] and rolled.json()["previousSecretValidUntil"]
        test = api(server.base, "POST", f"/webhooks/{endpoint['id']}/test", session)
        assert test.status_code == 200
        assert wait_for(lambda: len(receiver.events("webhook.test")) == 1)
        sent = receiver.events("webhook.test")[0]
        assert verify(sent, rolled.json()["secret"]) and verify(sent, endpoint["secret"])  # both sign during the overlap
        assert sent["headers"]["webhook-signature"].count("v1,") == 2
        # A failing receiver, then a manual retry of the delivery.
        receiver.status = 500
        second = api(server.base, "POST", f"/webhooks/{endpoint['id']}/test", session).json()["deliveryId"]
        assert wait_for(lambda: len(receiver.events("webhook.test")) >= 2)
        receiver.status = 200
        assert api(server.base, "POST", f"/webhooks/{endpoint['id']}/deliveries/{second}/retry", session).status_code == 204
        assert wait_for(lambda: any(d["id"] == second and d["status"] == "delivered"
                                    for d in api(server.base, "GET", f"/webhooks/{endpoint['id']}/deliveries", session).json()))
        assert api(server.base, "POST", f"/webhooks/{endpoint['id']}/deliveries/{second}/retry", session).status_code == 404
        # Disabled endpoints get nothing; deleting one removes its log.
        assert api(server.base, "PUT", f"/webhooks/{endpoint['id']}", session, json={"enabled": False}).json()["enabled"] is False
        count = len(receiver.requests)
        key_id = api(server.base, "GET", "/apiKeys", session).json()[0]["id"]
        api(server.base, "POST", f"/apiKeys/{key_id}/regenerate", session)
        time.sleep(2)
        assert len(receiver.requests) == count
        assert api(server.base, "DELETE", f"/webhooks/{endpoint['id']}", session).status_code == 204
        assert api(server.base, "GET", f"/webhooks/{endpoint['id']}/deliveries", session).status_code == 404
    finally:
        server.close()
        receiver.close()


def test_webhook_secrets_move_to_the_new_master_key_in_a_rotation():
    receiver, server = Receiver(), hooks_server()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        endpoint = api(server.base, "POST", "/webhooks", session, json={"url": receiver.url}).json()
        new_key = server.directory / "new.key"
        subprocess.run([os.environ.get("KEYGATE_BIN"), "master-key", "generate", "--out", str(new_key)], check=True, capture_output=True)
        rotated = json.loads(subprocess.run([os.environ.get("KEYGATE_BIN"), "master-key", "rotate", "--new-key-file", str(new_key),
                                             "--database", server.database, "--json"], check=True, capture_output=True, text=True,
                                            env=server.env).stdout)
        assert rotated["storedKeys"] == 3  # two API keys (Demo, Hooked) and one webhook secret
        os.remove(str(server.directory / "master.key") + ".previous")
        time.sleep(3)  # the server drops the old key
        assert api(server.base, "POST", f"/webhooks/{endpoint['id']}/test", session).status_code == 200
        assert wait_for(lambda: len(receiver.events("webhook.test")) == 1)
        assert verify(receiver.events("webhook.test")[0], endpoint["secret"])
    finally:
        server.close()
        receiver.close()


def test_a_slow_receiver_never_slows_an_api_request():
    receiver, server = Receiver(), hooks_server()
    receiver.delay = 3.0  # each delivery holds its connection for 3 s
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        api(server.base, "POST", "/webhooks", session, json={"url": receiver.url, "events": ["key.regenerated"]})
        key_id = api(server.base, "GET", "/apiKeys", session).json()[0]["id"]
        slowest = 0.0
        for _ in range(6):
            started = time.monotonic()
            assert api(server.base, "POST", f"/apiKeys/{key_id}/regenerate", session).status_code == 200
            assert api(server.base, "GET", "/apiKeys", session).status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.5)  # deliveries are in flight meanwhile
        assert slowest < 1.0, slowest
        assert wait_for(lambda: len(receiver.events("key.regenerated")) == 6, timeout=40)
    finally:
        server.close()
        receiver.close()


def test_every_key_and_admin_event_reaches_a_subscribed_endpoint_from_the_api_and_the_cli():
    receiver, server = Receiver(), hooks_server()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        api(server.base, "POST", "/webhooks", session, json={"url": receiver.url})  # no events named: all of them
        created = api(server.base, "POST", "/adminUsers", session, json={"loginName": "ann@hooked", "password": PASSWORD, "role": "Super Admin"})
        assert created.status_code == 200, created.text
        ann = created.json()["id"]
        for change in ({"disabled": True}, {"disabled": False}, {"password": "Another!passw0rd"}):
            assert api(server.base, "PUT", f"/adminUsers/{ann}", session, json=change).status_code == 200
        # The provider's changes from the operator CLI are events too, delivered by the running server.
        server.cli("key", "disable", "--org", "Hooked")
        server.cli("key", "enable", "--org", "Hooked")
        session = login(server.base, user, key)  # disabling ended the sessions
        key_id = api(server.base, "GET", "/apiKeys", session).json()[0]["id"]
        assert api(server.base, "DELETE", f"/apiKeys/{key_id}", session).status_code == 204
        server.cli("key", "add", "--org", "Hooked")
        expected = ["admin.created", "admin.disabled", "admin.enabled", "admin.password_changed", "key.disabled", "key.enabled",
                    "key.deleted", "key.added"]
        assert wait_for(lambda: len(receiver.requests) >= len(expected), timeout=30)
        time.sleep(1.5)
        received = sorted(r["headers"]["keygate-event-type"] for r in receiver.requests)
        assert received == sorted(expected)
        cli_event = json.loads(receiver.events("key.disabled")[0]["body"])
        assert cli_event["actor"]["kind"] == "provider"
    finally:
        server.close()
        receiver.close()


def test_a_receiver_that_answers_410_gone_disables_its_endpoint_with_the_reason_and_an_audit_event():
    receiver, server = Receiver(), hooks_server()
    receiver.status = 410
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        endpoint = api(server.base, "POST", "/webhooks", session, json={"url": receiver.url}).json()
        assert api(server.base, "POST", f"/webhooks/{endpoint['id']}/test", session).status_code == 200
        assert wait_for(lambda: api(server.base, "GET", f"/webhooks/{endpoint['id']}", session).json()["enabled"] is False)
        gone = api(server.base, "GET", f"/webhooks/{endpoint['id']}", session).json()
        assert gone["disabledReason"] == "the receiver answered 410 Gone"
        assert [d["status"] for d in api(server.base, "GET", f"/webhooks/{endpoint['id']}/deliveries", session).json()] == ["failed"]
        trail = server.cli("audit", "--org", "Hooked", "--action", "webhook.")
        assert any(e["action"] == "webhook.disabled" and "410 Gone" in e["detail"] for e in trail), trail
        assert "webhook endpoint disabled" in server.log_path.read_text()  # and the server says so in its log
        # Nothing more goes to a receiver that said it is gone.
        key_id = api(server.base, "GET", "/apiKeys", session).json()[0]["id"]
        api(server.base, "POST", f"/apiKeys/{key_id}/regenerate", session)
        time.sleep(2)
        assert len(receiver.requests) == 1
    finally:
        server.close()
        receiver.close()


def test_endpoint_urls_reach_the_audit_trail_without_tokens():
    server = PlainServer()
    try:
        user, key = tenant(server)
        session = login(server.base, user, key)
        token, slack = "q9Vt3xKzP7wLm2Rb", "XyZ123abcDEF456ghiJKL789"
        for url in (f"https://hooks.example.com/k?token={token}", f"https://hooks.slack.com/services/T0ABCDEF/B0ABCDEF/{slack}",
                    f"https://ops:{token}@hooks.example.com/k"):
            created = api(server.base, "POST", "/webhooks", session, json={"url": url})
            if created.status_code == 200:
                api(server.base, "PUT", f"/webhooks/{created.json()['id']}", session, json={"enabled": False})
                assert api(server.base, "DELETE", f"/webhooks/{created.json()['id']}", session).status_code == 204
        trail = json.dumps(server.cli("audit", "--org", "Hooked"), ensure_ascii=False)
        assert "hooks.example.com/k?…" in trail and "hooks.slack.com/services/" in trail
        for secret in (token, slack, "ops:"):
            assert secret not in trail
    finally:
        server.close()
