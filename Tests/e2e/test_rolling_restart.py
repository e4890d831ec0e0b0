"""A rolling restart behind a real HAProxy loses no request (issue 22): two instances on one PostgreSQL database behind
Debian's haproxy (the configuration of docs/haproxy.cfg, health-checking /health/ready), under a load of reads and
regenerates through the balancer; each instance in turn gets SIGTERM (it answers 503 on /health/ready and keeps
serving for server.drainSeconds, then finishes what it has and stops) and is started again on its port. Every client
request must succeed."""

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time

import pytest
import requests

from plain_server import keygate_binary
from test_multi_instance import PG_URL, Cluster, login

pytestmark = [
    pytest.mark.skipif(not PG_URL, reason="needs KEYGATE_TEST_POSTGRES_URL (scripts/test sets it)"),
    pytest.mark.skipif(shutil.which("haproxy") is None, reason="needs Debian's haproxy (scripts/test installs it)"),
]

DRAIN, GRACE = 2, 8


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def haproxy_config(front, backends):
    example = open(os.path.join(os.path.dirname(__file__), "..", "..", "docs", "haproxy.cfg")).read()
    # The shipped example, with this test's ports and plain HTTP.
    config = example.replace("bind :443 ssl crt /etc/haproxy/keygate.pem", f"bind 127.0.0.1:{front}")
    config = config.replace("server keygate1 10.0.0.11:8080 check", f"server keygate1 127.0.0.1:{backends[0]} check")
    config = config.replace("server keygate2 10.0.0.12:8080 check", f"server keygate2 127.0.0.1:{backends[1]} check")
    assert f"127.0.0.1:{backends[1]}" in config and f"127.0.0.1:{front}" in config
    return config


def start_instance(cluster, port):
    env = dict(cluster.env, KEYGATE_SERVER_DRAIN_SECONDS=str(DRAIN), KEYGATE_SERVER_SHUTDOWN_GRACE_SECONDS=str(GRACE))
    process = subprocess.Popen([keygate_binary(), "serve", "--host", "127.0.0.1", "--port", str(port), "--json", "--no-demo",
                                "--database", cluster.url, "--master-key-file", cluster.master_key],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    assert process.stdout.readline().startswith("{")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if requests.get(f"http://127.0.0.1:{port}/health/ready", timeout=2).status_code == 200:
                return process
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise AssertionError("the instance did not become ready")


def test_a_rolling_restart_behind_haproxy_loses_no_request():
    cluster = Cluster()
    cluster.cli("migrate")
    tenant_out = cluster.cli("org", "create", "Acme", "--admin", "root", "--password-stdin", stdin="Multi!passw0rd\n")
    tenant = {"user": "root", "password": "Multi!passw0rd", "key": tenant_out["apiKey"]}
    directory = tempfile.mkdtemp(prefix="keygate-haproxy-")
    ports = [free_port(), free_port()]
    front = free_port()
    processes = [start_instance(cluster, port) for port in ports]
    config = os.path.join(directory, "haproxy.cfg")
    with open(config, "w") as f:
        f.write(haproxy_config(front, ports))
    check = subprocess.run(["haproxy", "-c", "-f", config], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    haproxy = subprocess.Popen(["haproxy", "-db", "-f", config], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    base = f"http://127.0.0.1:{front}"
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                if requests.get(base + "/health/ready", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            time.sleep(0.1)
        session, refused = login({"base": base}, tenant)
        assert session, refused.text
        key_id = requests.get(base + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=10).json()[0]["id"]

        stop, lock, answers, failures = threading.Event(), threading.Lock(), [], []

        def record(kind, response):
            with lock:
                answers.append(kind)
                if isinstance(response, Exception) or response.status_code != 200:
                    failures.append((kind, response if isinstance(response, Exception) else (response.status_code, response.text[:200])))

        def reader():
            with requests.Session() as client:  # keep-alive to HAProxy, as an SDK does
                while not stop.is_set():
                    try:
                        record("read", client.get(base + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=20))
                    except requests.RequestException as error:
                        record("read", error)
                    time.sleep(0.01)

        def writer():
            with requests.Session() as client:
                while not stop.is_set():
                    try:
                        # The caller's session moves to the new key: one session keeps working.
                        record("write", client.post(base + f"/api/v1/apiKeys/{key_id}/regenerate", cookies={"JSESSIONID": session},
                                                    timeout=20))
                    except requests.RequestException as error:
                        record("write", error)
                    time.sleep(0.3)

        threads = [threading.Thread(target=reader, daemon=True) for _ in range(3)] + [threading.Thread(target=writer, daemon=True)]
        for t in threads:
            t.start()
        time.sleep(1)
        started = time.monotonic()
        for index, port in enumerate(ports):
            sent = time.monotonic()
            processes[index].send_signal(signal.SIGTERM)
            # Draining: not ready for the balancer at once, still alive and serving.
            time.sleep(0.3)
            direct = f"http://127.0.0.1:{port}"
            assert requests.get(direct + "/health/ready", timeout=2).status_code == 503
            assert requests.get(direct + "/health", timeout=2).status_code == 200
            assert requests.get(direct + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=5).status_code == 200
            assert processes[index].wait(timeout=GRACE + 5) == 0
            stopped = time.monotonic() - sent
            assert DRAIN <= stopped < GRACE + 2, stopped
            processes[index] = start_instance(cluster, port)
            time.sleep(2)  # HAProxy's `rise 2` at 500 ms, and some load on the new instance
        took = time.monotonic() - started
        time.sleep(1)
        stop.set()
        for t in threads:
            t.join(timeout=30)
        print(f"rolling restart of 2 instances in {took:.1f} s: {len(answers)} requests through HAProxy, "
              f"{answers.count('write')} of them regenerates, {len(failures)} failed")
        assert len(answers) > 200 and answers.count("write") > 10
        assert failures == [], failures[:5]
    finally:
        haproxy.terminate()
        haproxy.wait(timeout=10)
        for process in processes:
            if process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        cluster.close()
        shutil.rmtree(directory, ignore_errors=True)
