"""Helpers the benchmark scripts share (standard library only): release binaries, servers, a throwaway
PostgreSQL database, the legacy login, wrk.

Set BENCH_SECONDS (default 10) for wrk's duration before importing.
"""

import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".build-release", "release")
SECONDS = int(os.environ.get("BENCH_SECONDS", "10"))
PG = os.environ.get("KEYGATE_TEST_POSTGRES_URL", "")
WORK = tempfile.mkdtemp(prefix="keygate-bench-")
MASTER = os.path.join(WORK, "master.key")
with open(os.open(MASTER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as f:  # Keygate refuses a key others can read
    f.write(os.urandom(32).hex())
PROCESSES = []


def start(args, env=None):
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                         env=dict(os.environ, **(env or {})))
    PROCESSES.append(p)
    for line in p.stdout:
        if line.startswith("{"):
            return p, json.loads(line)
    raise RuntimeError("server did not start: " + " ".join(args))


def keygate(database, extra_env=None):
    env = {"KEYGATE_RATELIMIT_PRESET": "off", "KEYGATE_LOG_LEVEL": "warning",
           "KEYGATE_LOGIN_MAX_FAILURES_PER_NAME": "1000000", "KEYGATE_LOGIN_MAX_FAILURES_PER_PAIR": "1000000",
           "KEYGATE_LOGIN_MAX_FAILURES_PER_ADDRESS": "1000000"}
    env.update(extra_env or {})
    _, banner = start([os.path.join(BIN, "keygate"), "serve", "--port", "0", "--json", "--database", database,
                       "--master-key-file", MASTER], env)
    return banner


def psql():
    """The psql binary (Debian keeps it out of PATH in /usr/lib/postgresql/N/bin)."""
    return shutil.which("psql") or sorted(__import__("glob").glob("/usr/lib/postgresql/*/bin/psql"))[-1]


def pg_database():
    name = "kg_bench_" + uuid.uuid4().hex[:10]
    subprocess.run([psql(), PG, "-q", "-c", f"CREATE DATABASE {name}"], check=True, capture_output=True)
    return urllib.parse.urlunsplit(urllib.parse.urlsplit(PG)._replace(path="/" + name))


def obfuscate(key, now):
    n = str(now)[-6:]
    r = str(int(n) >> 1).zfill(6)
    return "".join(key[int(c)] for c in n) + "".join(key[int(c) + 2] for c in r)


def login(base, user, password, key):
    now = int(time.time() * 1000)
    body = json.dumps({"apiKey": obfuscate(key, now), "username": user, "password": password, "timestamp": now}).encode()
    request = urllib.request.Request(base + "/api/v1/auth", data=body, headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request) as response:
        return re.search(r"JSESSIONID=(.*?);", response.headers["Set-Cookie"]).group(1)


def wrk(url, connections=32, headers=(), script=None, env=None):
    args = ["wrk", "-t2", f"-c{connections}", f"-d{SECONDS}s", "--latency"]
    for h in headers:
        args += ["-H", h]
    if script:
        args += ["-s", script]
    out = subprocess.run(args + [url], capture_output=True, text=True, env=dict(os.environ, **(env or {}))).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    def pct(p):
        m = re.search(rf"\s{p}%\s+([\d.]+)(us|ms|s)\b", out)
        value, unit = float(m.group(1)), m.group(2)
        return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": rps, "p50": pct(50), "p99": pct(99), "non2xx": int(errors.group(1)) if errors else 0}


def q(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def cli(database, *args, stdin=None, env=None):
    """Runs the operator CLI on `database` with the benchmark's master key; returns its --json output parsed. A SQLite
    database that does not exist yet is created first with `keygate migrate` (no other command creates one)."""
    if not database.startswith("postgres") and not os.path.exists(database):
        subprocess.run([os.path.join(BIN, "keygate"), "migrate", "--database", database, "--master-key-file", MASTER],
                       capture_output=True, check=True)
    out = subprocess.run([os.path.join(BIN, "keygate"), *args, "--database", database, "--master-key-file", MASTER, "--json"],
                         input=stdin, capture_output=True, text=True, check=True, env=dict(os.environ, **(env or {})))
    return json.loads(out.stdout)


def stop_all():
    for p in PROCESSES:
        p.terminate()
    for p in PROCESSES:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    PROCESSES.clear()
