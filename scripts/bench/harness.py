"""Benchmark harness (run through scripts/bench/run). Standard library only.

For each backend (SQLite, PostgreSQL): requests/s, p50 and p99 of GET /api/v1/apiKeys with a live session (with
the session cache, and with it off) and of POST /api/v1/auth, with the bare Hummingbird endpoint measured in the
same run; then the time from a key change on instance A until instance B refuses the old session, p50/p99 over
200 rotations (PostgreSQL, two instances, the session warm in B's cache), and the same for a CLI change reaching
a server on SQLite.
"""

import os
import sys

os.environ.setdefault("BENCH_SECONDS", sys.argv[1] if len(sys.argv) > 1 else "10")
from benchlib import *  # noqa: E402,F403 (the shared helpers)

def row(label, r, base=None):
    ratio = f"{r['rps'] / base['rps']:.2f}" if base else "1.00"
    bad = f"  ({r['non2xx']} non-2xx!)" if r["non2xx"] else ""
    print(f"| {label} | {r['rps']:,.0f} | {r['p50']:.2f} ms | {r['p99']:.2f} ms | {ratio} |{bad}")


def get(url, session):
    return urllib.request.urlopen(urllib.request.Request(url, headers={"Cookie": f"JSESSIONID={session}"})).read()


def refused(url, session):
    try:
        get(url, session)
        return False
    except urllib.error.HTTPError as e:
        if e.code == 401:
            return True
        raise


def measure(name, database):
    banner = keygate(database)
    base = f"http://127.0.0.1:{banner['port']}"
    uncached = f"http://127.0.0.1:{keygate(database, {'KEYGATE_SESSION_CACHE': 'false'})['port']}"
    if "apiKey" not in banner:  # PostgreSQL: provision through the CLI
        out = subprocess.run([os.path.join(BIN, "keygate"), "org", "create", "Bench", "--admin", "bench", "--password-stdin",
                              "--database", database, "--master-key-file", MASTER, "--json"], input="Bench!passw0rd\n",
                             capture_output=True, text=True, check=True)
        banner.update(username="bench", password="Bench!passw0rd", apiKey=json.loads(out.stdout)["apiKey"])
    session = login(base, banner["username"], banner["password"], banner["apiKey"])
    _, bare = start([os.path.join(BIN, "KeygateBareServer")])
    bare_url = f"http://127.0.0.1:{bare['port']}/bare"
    wrk(bare_url)  # warm-up
    baseline = wrk(bare_url)
    keys = wrk(base + "/api/v1/apiKeys", headers=[f"Cookie: JSESSIONID={session}"])
    keys_uncached = wrk(uncached + "/api/v1/apiKeys", headers=[f"Cookie: JSESSIONID={session}"])
    logins = wrk(base, connections=8, script=os.path.join(ROOT, "scripts", "bench", "login.lua"),
                 env={"KG_KEY": banner["apiKey"], "KG_USER": banner["username"], "KG_PASS": banner["password"],
                      "KG_TS": str(int(time.time() * 1000) - 600_000)})
    print(f"\n### {name}\n")
    print("| endpoint | req/s | p50 | p99 | ratio to bare |")
    print("|---|---|---|---|---|")
    row("bare Hummingbird `GET /bare` (same bytes)", baseline)
    row("`GET /api/v1/apiKeys` (session check, session cache on: the default)", keys, baseline)
    row("`GET /api/v1/apiKeys` (session check, `KEYGATE_SESSION_CACHE=false`)", keys_uncached, baseline)
    row("`POST /api/v1/auth` (bcrypt cost 12)", logins, baseline)


def revocation(rounds=200):
    database = pg_database()
    fast = {"KEYGATE_SECURITY_BCRYPT_COST": "4"}  # logins are not what is measured here
    a = f"http://127.0.0.1:{keygate(database, fast)['port']}"
    b = f"http://127.0.0.1:{keygate(database, fast)['port']}"
    out = subprocess.run([os.path.join(BIN, "keygate"), "org", "create", "Revoke", "--admin", "r", "--password-stdin",
                          "--database", database, "--master-key-file", MASTER, "--json"], input="Revoke!passw0rd\n",
                         capture_output=True, text=True, check=True, env=dict(os.environ, **fast))
    key = json.loads(out.stdout)["apiKey"]
    editor = login(a, "r", "Revoke!passw0rd", key)
    key_id = json.loads(urllib.request.urlopen(urllib.request.Request(
        a + "/api/v1/apiKeys", headers={"Cookie": f"JSESSIONID={editor}"})).read())[0]["id"]
    from_request, from_commit = [], []
    for i in range(rounds):
        victim = login(b, "r", "Revoke!passw0rd", key)
        get(b + "/api/v1/auth", victim)
        get(b + "/api/v1/auth", victim)  # now served from B's session cache
        key = "Rv" + uuid.uuid4().hex[:10]
        request = urllib.request.Request(a + f"/api/v1/apiKeys/{key_id}", method="PUT",
                                         data=json.dumps({"keyValue": key}).encode(),
                                         headers={"Cookie": f"JSESSIONID={editor}", "Content-Type": "application/json"})
        sent = time.perf_counter()
        urllib.request.urlopen(request).read()
        committed = time.perf_counter()
        while not refused(b + "/api/v1/auth", victim):
            pass
        done = time.perf_counter()
        from_request.append((done - sent) * 1000)
        from_commit.append((done - committed) * 1000)
    print(f"\n### Revocation across instances (PostgreSQL, {rounds} rotations, the old session warm in B's cache)\n")
    print("| measured from | p50 | p99 | max |")
    print("|---|---|---|---|")
    print(f"| edit sent to A → B refuses the old session | {q(from_request, .5):.2f} ms | {q(from_request, .99):.2f} ms | {max(from_request):.2f} ms |")
    print(f"| A answered (committed) → B refuses | {q(from_commit, .5):.2f} ms | {q(from_commit, .99):.2f} ms | {max(from_commit):.2f} ms |")


def cli_revocation(rounds=50):
    """SQLite: `keygate key disable` (another process) until the server refuses a session warm in its cache."""
    database = os.path.join(WORK, "cli.sqlite")
    fast = {"KEYGATE_SECURITY_BCRYPT_COST": "4"}
    banner = keygate(database, fast)
    base = f"http://127.0.0.1:{banner['port']}"
    cli = [os.path.join(BIN, "keygate"), "key", "--database", database, "--master-key-file", MASTER, "--json"]
    after_exit = []
    for i in range(rounds):
        session = login(base, banner["username"], banner["password"], banner["apiKey"])
        get(base + "/api/v1/auth", session)
        get(base + "/api/v1/auth", session)
        subprocess.run(cli[:2] + ["disable", "--org", "Demo"] + cli[2:], check=True, capture_output=True, env=dict(os.environ, **fast))
        exited = time.perf_counter()
        while not refused(base + "/api/v1/auth", session):
            pass
        after_exit.append((time.perf_counter() - exited) * 1000)
        subprocess.run(cli[:2] + ["enable", "--org", "Demo"] + cli[2:], check=True, capture_output=True, env=dict(os.environ, **fast))
    print(f"\n### A CLI change reaching a server (SQLite, {rounds} disables, the session warm in the server's cache)\n")
    print("| measured from | p50 | p99 | max |")
    print("|---|---|---|---|")
    print(f"| `keygate key disable` exited → the server refuses | {q(after_exit, .5):.2f} ms | {q(after_exit, .99):.2f} ms | {max(after_exit):.2f} ms |")


try:
    print(f"machine: {os.cpu_count()} cores; wrk -t2, {SECONDS} s per run; release builds; rate limits off")
    measure("Embedded SQLite", os.path.join(WORK, "bench.sqlite"))
    measure("PostgreSQL (one instance)", pg_database())
    revocation()
    cli_revocation()
finally:
    stop_all()
    shutil.rmtree(WORK, ignore_errors=True)
