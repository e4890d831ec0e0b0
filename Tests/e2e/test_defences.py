"""Login defences and transport bounds over real HTTP, each against a server of its own (plain HTTP, fresh
database), so the lockouts these tests provoke cannot touch the shared server's other tests."""

import concurrent.futures
import json
import os
import pathlib
import shutil
import socket
import stat
import subprocess
import tempfile
import time

import pytest
import requests

from conftest import keygate_binary
from go_client import GoClient, obfuscate

PASSWORD_ENV = dict(KEYGATE_SECURITY_BCRYPT_COST="10", KEYGATE_LOG_LEVEL="info", KEYGATE_RATELIMIT_PRESET="off")


def fresh_window(length=900, margin=30):
    """Lockouts count in fixed windows (15 minutes, aligned to the epoch): a test that needs its lock to last waits
    out the few seconds before a boundary rather than see the lock end early."""
    left = length - time.time() % length
    if left < margin:
        time.sleep(left + 0.5)


class Server:
    def __init__(self, **env):
        fresh_window()
        self.dir = pathlib.Path(tempfile.mkdtemp(prefix="keygate-defences-"))
        self.database = str(self.dir / "data" / "keygate.sqlite")
        self.env = dict(os.environ, **dict(PASSWORD_ENV, **env))
        self.log = self.dir / "server.log"
        self.process = subprocess.Popen([keygate_binary(), "serve", "--port", "0", "--json", "--database", self.database],
                                        stdout=subprocess.PIPE, stderr=open(self.log, "w"), text=True, env=self.env)
        line = self.process.stdout.readline()
        assert line.startswith("{"), self.log.read_text()
        banner = json.loads(line)
        self.port = int(banner["port"])
        self.base = f"http://127.0.0.1:{self.port}"
        self.username, self.password, self.api_key = banner["username"], banner["password"], banner["apiKey"]

    def login(self, password=None, headers=None, username=None):
        now = int(time.time() * 1000)
        body = {"apiKey": obfuscate(self.api_key, now), "username": username or self.username,
                "password": password or self.password, "timestamp": now}
        return requests.post(self.base + "/api/v1/auth", json=body, headers=headers or {}, timeout=60)

    def cli(self, *args):
        out = subprocess.run([keygate_binary(), *args, "--database", self.database, "--json"], capture_output=True, text=True,
                             env=self.env, timeout=60)
        assert out.returncode == 0, out.stderr
        return json.loads(out.stdout)

    def close_process(self):
        """Stops the server, so its log is complete."""
        if self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=20)

    def close(self):
        self.close_process()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def test_25_simultaneous_wrong_guesses_only_5_reach_bcrypt(server):
    def guess(_):
        started = time.perf_counter()
        response = server.login(password="Wrong!passw0rd")
        return response.status_code, response.json().get("code"), time.perf_counter() - started

    with concurrent.futures.ThreadPoolExecutor(max_workers=25) as pool:
        results = list(pool.map(guess, range(25)))
    checked = [r for r in results if r[0] == 400]
    locked = [r for r in results if r[0] == 403]
    assert len(checked) == 5 and all(code == "INVALID_USERNAME_OR_PASSWORD" for _, code, _ in checked), results
    assert len(locked) == 20 and all(code == "LIMIT_EXCEEDED" for _, code, _ in locked), results
    print(f"25 simultaneous wrong guesses: {len(checked)} reached bcrypt, {len(locked)} refused before it")
    # The lock is per (login, address): the right password from here is refused too, until the window ends.
    assert server.login().status_code == 403


def test_a_locked_go_client_fails_at_once_instead_of_sleeping_through_retries(server):
    for _ in range(5):
        assert server.login(password="Wrong!passw0rd").status_code == 400
    client = GoClient(server.base.removesuffix("/api/v1"), server.username, server.password, server.api_key)
    started = time.monotonic()
    response = client.login()
    assert response.status_code == 403 and response.json()["code"] == "LIMIT_EXCEEDED"
    assert int(response.headers["Retry-After"]) > 0 and time.monotonic() - started < 5
    assert not GoClient._retryable(response), "the Go SDK retries 429 and 5xx, not 403"


def test_failed_logins_are_logged_without_secrets_and_listed_by_the_cli(server):
    for _ in range(6):
        server.login(password="Wrong!passw0rd")
    failures = server.cli("login-failures")
    pair = [f for f in failures if f["scope"] == "pair"]
    assert pair and pair[0]["login"] == server.username.lower() and pair[0]["address"] == "127.0.0.1" and pair[0]["locked"]
    time.sleep(0.5)
    log = server.log.read_text()
    assert "login refused" in log and "outcome=invalid" in log and "outcome=locked" in log
    assert "Wrong!passw0rd" not in log and server.password not in log and server.api_key not in log


def test_a_login_name_cannot_forge_log_fields_or_lines(server):
    """The issue's name: `admin@demo client=203.0.113.9 outcome=success`, plus a line break, NEL and a bidi override."""
    hostile = "admin@demo client=203.0.113.9 outcome=success\nforged\u0085\u202e"
    assert server.login(username=hostile, password="Wrong!passw0rd").status_code == 400
    time.sleep(0.5)
    lines = [line for line in server.log.read_text().splitlines() if "admin@demo client=" in line]
    assert len(lines) == 1, lines
    line = lines[0]
    assert 'login="admin@demo client=203.0.113.9 outcome=success\\u{A}forged\\u{85}\\u{202E}"' in line, line
    assert " client=127.0.0.1 " in line and " outcome=invalid " in line
    assert not any(ch in line for ch in "\u0085\u202e\u2028"), line
    assert "forged" not in "".join(l for l in server.log.read_text().splitlines() if "admin@demo client=" not in l)


def test_behind_a_trusted_proxy_strangers_cannot_lock_out_the_admin_and_guesses_stay_bounded():
    server = Server(KEYGATE_PROXY_TRUSTED_ADDRESSES="127.0.0.1/32")
    try:
        home = {"X-Forwarded-For": "198.51.100.7"}
        first = server.login(headers=dict(home, **{"X-Forwarded-Proto": "https"}))
        assert first.status_code == 200  # the admin's usual address becomes familiar
        assert "Secure" in first.headers["Set-Cookie"], "a trusted proxy's X-Forwarded-Proto is believed"
        statuses = []
        for i in range(40):
            attacker = {"X-Forwarded-For": f"6.6.6.6, 203.0.113.{i}"}  # the left-most hop is the attacker's forgery
            statuses.append(server.login(password="Wrong!passw0rd", headers=attacker).status_code)
        assert statuses.count(400) == 20 and statuses.count(403) == 20, statuses
        # The rightful admin, from their usual address, is not locked out.
        assert server.login(headers=home).status_code == 200
        # A new address for this login is held to the bound while the attack lasts.
        assert server.login(headers={"X-Forwarded-For": "192.0.2.44"}).status_code == 403
        # Only X-Forwarded-For (proxy.clientHeader's default) names the client: a Forwarded header the client wrote
        # itself, passed through by the proxy, is ignored, so this is the proxy's own (new) address.
        assert server.login(headers={"Forwarded": "for=198.51.100.7"}).status_code == 403
    finally:
        server.close()


def test_behind_a_proxy_that_appends_x_forwarded_for_a_forged_forwarded_header_changes_nothing():
    """nginx's default: X-Forwarded-For appended, a client's Forwarded passed through. Seven failures with a new
    Forwarded each still lock the (login, address) pair after five, and the address recorded is the real one."""
    server = Server(KEYGATE_PROXY_TRUSTED_ADDRESSES="127.0.0.1/32")
    try:
        statuses = [server.login(password="Wrong!passw0rd",
                                 headers={"X-Forwarded-For": "203.0.113.9", "Forwarded": f"for=198.51.100.{i}"}).status_code
                    for i in range(7)]
        assert statuses == [400] * 5 + [403] * 2, statuses
        addresses = {f.get("address") for f in server.cli("login-failures") if f["scope"] == "pair"}
        assert addresses == {"203.0.113.9"}, addresses
    finally:
        server.close()
    # An operator whose proxies write RFC 7239 picks it; then X-Forwarded-For is the header ignored, and a for= that
    # is not an address counts as the proxy's.
    server = Server(KEYGATE_PROXY_TRUSTED_ADDRESSES="127.0.0.1/32", KEYGATE_PROXY_CLIENT_HEADER="forwarded")
    try:
        server.login(password="Wrong!passw0rd", headers={"Forwarded": "for=198.51.100.7", "X-Forwarded-For": "6.6.6.6"})
        server.login(password="Wrong!passw0rd", headers={"Forwarded": 'for="admin client=1.2.3.4"'})
        addresses = {f.get("address") for f in server.cli("login-failures") if f["scope"] == "pair"}
        assert addresses == {"198.51.100.7", "127.0.0.1"}, addresses
    finally:
        server.close()


def test_an_untrusted_peer_cannot_choose_its_address_with_forwarding_headers():
    server = Server(KEYGATE_PROXY_TRUSTED_ADDRESSES="10.0.0.0/8")
    try:
        statuses = [server.login(password="Wrong!passw0rd", headers={"X-Forwarded-For": f"203.0.113.{i}"}).status_code
                    for i in range(6)]
        assert statuses == [400] * 5 + [403], statuses
        other = Server(KEYGATE_PROXY_TRUSTED_ADDRESSES="10.0.0.0/8")
        try:
            cookie = other.login(headers={"X-Forwarded-Proto": "https"}).headers["Set-Cookie"]
            assert "Secure" not in cookie, "an untrusted peer's X-Forwarded-Proto is ignored"
        finally:
            other.close()
    finally:
        server.close()


def test_a_slow_client_is_cut_off_and_connections_are_bounded():
    server = Server(KEYGATE_SERVER_IDLE_TIMEOUT_SECONDS="2", KEYGATE_SERVER_MAX_CONNECTIONS="4")
    try:
        # Slowloris: a request head dripped a header line at a time is closed at the idle timeout.
        slow = socket.create_connection(("127.0.0.1", server.port))
        slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        started = time.monotonic()
        closed = False
        while time.monotonic() - started < 15:
            try:
                slow.sendall(b"X-Drip: 1\r\n")
                slow.settimeout(0.5)
                if slow.recv(1024) == b"":
                    closed = True
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = True
                break
        assert closed and time.monotonic() - started < 10
        slow.close()

        # Four idle connections take every slot; a fifth is not served until one of them goes.
        idle = [socket.create_connection(("127.0.0.1", server.port)) for _ in range(4)]
        time.sleep(0.3)
        with pytest.raises(requests.exceptions.ReadTimeout):
            requests.get(server.base + "/health", timeout=1)
        for s in idle:
            s.close()
        assert requests.get(server.base + "/health", timeout=10).status_code == 200
    finally:
        server.close()


def test_the_database_and_master_key_are_private_files(server):
    data = pathlib.Path(server.database).parent
    assert stat.S_IMODE(os.stat(server.database).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data / "master.key").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(data).st_mode) == 0o700


def test_a_database_password_is_never_printed(tmp_path):
    env = dict(os.environ, KEYGATE_MASTER_KEY=os.urandom(32).hex())
    for url in ["postgres://kg:hunter2secret@127.0.0.1:1/kg?connectTimeout=1", "postgres://kg:hunter2secret@127.0.0.1:1/kg?pool=0"]:
        out = subprocess.run([keygate_binary(), "migrate", "--database", url], capture_output=True, text=True, timeout=60, env=env,
                             cwd=tmp_path)
        assert out.returncode != 0
        assert "hunter2secret" not in out.stdout + out.stderr, out.stderr
    # The malformed URL is echoed in the error, without its password.
    assert "postgres://kg:***@127.0.0.1:1/kg" in out.stderr, out.stderr


def test_a_planted_master_key_link_is_not_followed(tmp_path):
    """master.key is created exclusively: a symbolic link planted where it will be made is not written through."""
    data = tmp_path / "data"
    data.mkdir()
    target = tmp_path / "stolen.key"
    (data / "master.key").symlink_to(target)
    out = subprocess.run([keygate_binary(), "migrate", "--database", str(data / "keygate.sqlite")], capture_output=True,
                         text=True, timeout=60, cwd=tmp_path)
    assert out.returncode != 0 and "master key file" in out.stderr, out.stderr
    assert not target.exists()
