"""A million organizations (issue 10): the same measurements at 1,000 organizations and at N (default 1,000,000),
on embedded SQLite and on PostgreSQL, on one database that grows between the two.

Built with `keygate org import` (JSON Lines, an existing bcrypt hash, the key given), then on PostgreSQL a
`VACUUM ANALYZE` and a `CHECKPOINT` (what autovacuum and the checkpointer do within minutes of a bulk load). At each size, against a release
`keygate serve` (bcrypt cost 4, so that a login's figure is the database's part, not bcrypt's):
- login latency (200 sequential logins on random organizations), p50/p99;
- the session check: 300 live sessions in random organizations read round-robin by wrk, with the session cache
  (the default) and without it (`KEYGATE_SESSION_CACHE=false`, one indexed read per request): req/s, p50, p99;
- the API Key Management page of a random organization (200 GETs), the console's first page of organizations and
  a console search by name (200 each), p50/p99;
- `keygate org list --limit 1000` from the middle of the id range (5 runs, whole process), median;
- housekeeping: 50,000 expired sessions, 50,000 stale replay digests and 50,000 ended counter windows written
  directly, then the server's own housekeeping (every 2 s here) deletes them while a client logs in and reads; the
  slowest request until they are gone against the slowest before;
- database size; the server's resident memory idle (after start), after the measurements, and its peak (VmHWM).

Prints tables; asserts nothing. Usage: scripts/bench/scale [N] [backends: sqlite,postgres]
"""

import os
import random
import sqlite3
import statistics
import sys
import threading

os.environ.setdefault("BENCH_SECONDS", "10")
from benchlib import *  # noqa: E402,F403 (the shared helpers)

N = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
BACKENDS = (sys.argv[2] if len(sys.argv) > 2 else "sqlite,postgres").split(",")
FAST = {"KEYGATE_SECURITY_BCRYPT_COST": "4", "KEYGATE_PORTAL_REQUESTS_PER_SECOND": "1000000",
        "KEYGATE_PORTAL_REQUESTS_PER_MINUTE": "100000000", "KEYGATE_HOUSEKEEPING_INTERVAL_SECONDS": "2"}
PASSWORD = "Scale!passw0rd"
LIVE = 300


def key_of(i):
    return f"Sk{i:010d}"


def name_of(i):
    return f"Scale {i:07d}"


def write_rows(path, start, end, bcrypt):
    with open(path, "w") as f:
        for i in range(start, end):
            f.write('{"organization":"%s","login":"scale%d","passwordHash":"%s","key":"%s"}\n' % (name_of(i), i, bcrypt, key_of(i)))


def import_range(database, start, end, bcrypt):
    path = os.path.join(WORK, "rows.jsonl")
    write_rows(path, start, end, bcrypt)
    began = time.monotonic()
    subprocess.run([os.path.join(BIN, "keygate"), "org", "import", path, "--database", database, "--master-key-file", MASTER],
                   check=True, capture_output=True)
    seconds = time.monotonic() - began
    os.remove(path)
    print(f"imported organizations {start:,}-{end - 1:,} in {seconds:.0f} s ({(end - start) / seconds:,.0f}/s)", file=sys.stderr)
    return seconds


def settle(database):
    """After a bulk import, what PostgreSQL does by itself within minutes anyway, done now so that it does not run in
    the middle of a measurement: VACUUM ANALYZE (autovacuum: planner statistics, the visibility map) and a
    CHECKPOINT (the checkpointer spreads writing the imported gigabyte over minutes). SQLite needs nothing."""
    if database.startswith("postgres"):
        began = time.monotonic()
        subprocess.run([psql(), database, "-q", "-c", "VACUUM ANALYZE", "-c", "CHECKPOINT"], check=True, capture_output=True)
        print(f"VACUUM ANALYZE and CHECKPOINT in {time.monotonic() - began:.0f} s", file=sys.stderr)
        time.sleep(10)


def rss(pid, field="VmRSS"):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def timed(action, n=200):
    samples = []
    for _ in range(n):
        began = time.perf_counter()
        action()
        samples.append((time.perf_counter() - began) * 1000)
    return q(samples, 0.5), q(samples, 0.99)


def fetch(url, cookie=None, method="GET", data=None, headers=None):
    all_headers = dict(headers or {})
    if cookie:
        all_headers["Cookie"] = cookie
    request = urllib.request.Request(url, method=method, data=data, headers=all_headers)
    opener = urllib.request.build_opener(NoRedirect)
    try:
        with opener.open(request) as response:
            return response.status, response.headers, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def form_sign_in(url, login, password):
    data = urllib.parse.urlencode({"loginName": login, "password": password}).encode()
    status, headers, _ = fetch(url, method="POST", data=data, headers={"Content-Type": "application/x-www-form-urlencoded"})
    assert status in (302, 303), status
    return "; ".join(c.split(";")[0] for c in headers.get_all("Set-Cookie"))


def database_size(database):
    if database.startswith("postgres"):
        out = subprocess.run([psql(), database, "-qtA", "-c", "SELECT pg_database_size(current_database())"],
                             capture_output=True, text=True, check=True).stdout
        return int(out.strip()) / 1e6
    return os.path.getsize(database) / 1e6  # the database file (its WAL is truncated to 16 MiB once checkpointed)


OLD = int((time.time() - 86_400) * 1000)  # the expiry time of the seeded rows


def seed_expired(database, count=50_000):
    """Expired sessions, stale replay digests and ended counter windows, written directly (setup, not measured)."""
    old = OLD
    statements = [
        f"INSERT INTO sessions (token_hash, org_id, admin_id, key_id, key_version, kind, created_at, last_seen_at) "
        f"SELECT 'expired' || g, 1, 1, 1, 1, 'ztw', {old}, {old} FROM generate_series(1, {count}) g",
        f"INSERT INTO login_replays (digest, expires_at) SELECT 'stale' || g, {old} FROM generate_series(1, {count}) g",
        f"INSERT INTO window_counters (bucket, count, expires_at) SELECT 'ended' || g, 1, {old} FROM generate_series(1, {count}) g",
    ]
    if database.startswith("postgres"):
        for s in statements:
            subprocess.run([psql(), database, "-q", "-c", s], check=True, capture_output=True)
    else:
        with sqlite3.connect(database, timeout=30) as db:
            db.execute(f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {count}) "
                       f"INSERT INTO sessions (token_hash, org_id, admin_id, key_id, key_version, kind, created_at, last_seen_at) "
                       f"SELECT 'expired' || x, 1, 1, 1, 1, 'ztw', {old}, {old} FROM g")
            db.execute(f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {count}) "
                       f"INSERT INTO login_replays (digest, expires_at) SELECT 'stale' || x, {old} FROM g")
            db.execute(f"WITH RECURSIVE g(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM g WHERE x < {count}) "
                       f"INSERT INTO window_counters (bucket, count, expires_at) SELECT 'ended' || x, 1, {old} FROM g")


def expired_rows(database):
    """How many of the rows seed_expired wrote are still there (through the expiry indexes: a scan here, in the
    benchmark's own process, stalled its client thread for 100-300 ms and showed up as slow requests)."""
    cut = OLD + 1
    query = (f"SELECT (SELECT COUNT(*) FROM sessions WHERE last_seen_at < {cut}) + "
             f"(SELECT COUNT(*) FROM login_replays WHERE expires_at < {cut}) + "
             f"(SELECT COUNT(*) FROM window_counters WHERE expires_at < {cut})")
    if database.startswith("postgres"):
        return int(subprocess.run([psql(), database, "-qtA", "-c", query], capture_output=True, text=True, check=True).stdout)
    with sqlite3.connect(database, timeout=30) as db:
        return db.execute(query).fetchone()[0]


def housekeeping_under_load(base, database, sessions):
    """The slowest request a client sees while the server's own housekeeping (every 2 s here: the
    `housekeeping.intervalSeconds` setting, 60 by default) deletes 150,000 expired rows, against the slowest
    before. The client alternates a login (a write: the session row) and a session-checked read."""
    def probe(stop, samples):
        i = 0
        while not stop.is_set():
            i += 1
            org = random.randrange(size_now[0])
            began = time.perf_counter()
            if i % 2:
                login(base, f"scale{org}", PASSWORD, key_of(org))
            else:
                fetch(base + "/api/v1/apiKeys", cookie=f"JSESSIONID={random.choice(sessions)}")
            samples.append((time.perf_counter() - began) * 1000)
            if os.environ.get("SCALE_DEBUG"):
                print(f"{'login' if i % 2 else 'read'} {time.monotonic():.3f} {samples[-1]:.1f}", file=sys.stderr)

    def run_probe(until):
        stop, samples = threading.Event(), []
        thread = threading.Thread(target=probe, args=(stop, samples))
        thread.start()
        began = time.monotonic()
        until()
        stop.set()
        thread.join()
        return samples, time.monotonic() - began

    before, _ = run_probe(lambda: time.sleep(3))
    seed_expired(database)
    seeded = expired_rows(database)
    # The first requests after another process wrote 150,000 rows re-read the pages that changed (SQLite drops a
    # connection's page cache when another process writes): that is the seeding's cost, not housekeeping's.
    for _ in range(3):
        login(base, f"scale{0}", PASSWORD, key_of(0))
        fetch(base + "/api/v1/apiKeys", cookie=f"JSESSIONID={sessions[0]}")
    if os.environ.get("SCALE_DEBUG"):
        print(f"seeded {time.monotonic():.3f}", file=sys.stderr)

    # No polling meanwhile: a reader in the benchmark's own process stalled its client and skewed the figures.
    # Housekeeping runs every 2 s, so 6 s holds at least two passes; the rows are checked afterwards.
    during, seconds = run_probe(lambda: time.sleep(6))
    over = lambda samples: f"{sum(1 for x in samples if x > 10):,} of {len(samples):,}"  # noqa: E731
    return (max(before), q(before, 0.99), max(during), q(during, 0.99), seeded - expired_rows(database), seconds,
            over(before), over(during))


size_now = [0]


def measure(database, size, results):
    size_now[0] = size
    banner = keygate(database, FAST)
    server = PROCESSES[-1]
    time.sleep(1)
    idle_rss = rss(server.pid)
    base = f"http://127.0.0.1:{banner['port']}"
    orgs = random.sample(range(size), LIVE)
    login_p50, login_p99 = timed(lambda: (lambda o: login(base, f"scale{o}", PASSWORD, key_of(o)))(random.randrange(size)))
    sessions = [login(base, f"scale{o}", PASSWORD, key_of(o)) for o in orgs]
    sessions_file = os.path.join(WORK, "sessions.txt")
    with open(sessions_file, "w") as f:
        f.write("\n".join(sessions) + "\n")
    script = os.path.join(ROOT, "scripts", "bench", "sessions.lua")
    wrk(base, script=script, env={"KG_SESSIONS": sessions_file})  # warm-up
    cached = wrk(base, script=script, env={"KG_SESSIONS": sessions_file})
    load_rss = rss(server.pid)
    # The same sessions on a second server without the cache, stopped afterwards: two processes writing one SQLite
    # file wait for each other with SQLite's busy backoff, which is not what a deployment (one server) sees.
    uncached = f"http://127.0.0.1:{keygate(database, dict(FAST, KEYGATE_SESSION_CACHE='false'))['port']}"
    plain = wrk(uncached, script=script, env={"KG_SESSIONS": sessions_file})
    second = PROCESSES.pop()
    second.terminate()
    second.wait()

    portal_org = orgs[0]
    portal_cookie = form_sign_in(base + "/portal/signin", f"scale{portal_org}", PASSWORD)
    # /portal sends a signed-in admin to their organization's API Key Management page.
    status, headers, _ = fetch(base + "/portal", cookie=portal_cookie)
    assert status in (302, 303), status
    keys_url = base + headers["Location"]
    assert fetch(keys_url, cookie=portal_cookie)[0] == 200
    page_p50, page_p99 = timed(lambda: fetch(keys_url, cookie=portal_cookie))
    operator = cli(database, "provider", "create-operator", "--login", f"ops{size}")
    console_cookie = form_sign_in(base + "/provider/signin", f"ops{size}", operator["password"])
    list_p50, list_p99 = timed(lambda: fetch(base + "/provider", cookie=console_cookie))
    search_p50, search_p99 = timed(
        lambda: fetch(base + "/provider?q=" + urllib.parse.quote(name_of(random.randrange(size))[:-2]), cookie=console_cookie))
    cli_runs = []
    for _ in range(5):
        began = time.perf_counter()
        subprocess.run([os.path.join(BIN, "keygate"), "org", "list", "--limit", "1000", "--after", str(size // 2), "--database",
                        database, "--master-key-file", MASTER, "--json"], capture_output=True, check=True)
        cli_runs.append((time.perf_counter() - began) * 1000)
    hk = housekeeping_under_load(base, database, sessions)
    after_rss, peak_rss = rss(server.pid), rss(server.pid, "VmHWM")
    results[size] = {
        "login": (login_p50, login_p99), "cached": cached, "uncached": plain, "page": (page_p50, page_p99),
        "console list": (list_p50, list_p99), "console search": (search_p50, search_p99), "cli": statistics.median(cli_runs),
        "housekeeping": hk, "db": database_size(database), "rss": (idle_rss, load_rss, after_rss, peak_rss)}
    stop_all()


def report(name, results, build_seconds):
    small, large = sorted(results)
    a, b = results[small], results[large]
    print(f"\n### {name}: {small:,} and {large:,} organizations (built in {build_seconds:.0f} s)\n")
    print(f"| measurement | at {small:,} | at {large:,} | ratio |")
    print("|---|---|---|---|")

    def line(label, x, y, unit="ms"):
        print(f"| {label} | {x:,.2f} {unit} | {y:,.2f} {unit} | {y / x if x else float('nan'):.2f} |")

    for label, key in [("login (bcrypt 4)", "login"), ("API Key Management page", "page"),
                       ("console: first page of organizations", "console list"), ("console: search by name", "console search")]:
        line(f"{label}, p50", a[key][0], b[key][0])
        line(f"{label}, p99", a[key][1], b[key][1])
    for label, key in [("session check, cache on", "cached"), ("session check, cache off", "uncached")]:
        print(f"| {label}: req/s | {a[key]['rps']:,.0f} | {b[key]['rps']:,.0f} | {b[key]['rps'] / a[key]['rps']:.2f} |")
        line(f"{label}: p50", a[key]["p50"], b[key]["p50"])
        line(f"{label}: p99", a[key]["p99"], b[key]["p99"])
    line("`keygate org list --limit 1000` (whole process), median", a["cli"], b["cli"])
    for label, i in [("slowest request before housekeeping", 0), ("p99 before", 1), ("slowest request during housekeeping", 2),
                     ("p99 during", 3)]:
        line(label, a["housekeeping"][i], b["housekeeping"][i])
    print(f"| requests over 10 ms before housekeeping | {a['housekeeping'][6]} | {b['housekeeping'][6]} | |")
    print(f"| requests over 10 ms during housekeeping | {a['housekeeping'][7]} | {b['housekeeping'][7]} | |")
    print(f"| expired rows housekeeping removed within the 6 s probe | {a['housekeeping'][4]:,} of 150,000 | "
          f"{b['housekeeping'][4]:,} of 150,000 | |")
    line("database size", a["db"], b["db"], "MB")
    for label, i in [("server RSS idle (after start)", 0), ("server RSS under wrk load", 1), ("server RSS after all runs", 2),
                     ("server peak RSS (VmHWM)", 3)]:
        line(label, a["rss"][i], b["rss"][i], "MB")


try:
    print(f"machine: {os.cpu_count()} cores; release build; wrk -t2 -c32 {SECONDS} s; rate limits off; bcrypt cost 4")
    for backend in BACKENDS:
        database = os.path.join(WORK, "scale.sqlite") if backend == "sqlite" else pg_database()
        cli(database, "org", "create", "Hash Source", "--admin", "hash-source", "--password-stdin", stdin=PASSWORD + "\n", env=FAST)
        exported = subprocess.run([os.path.join(BIN, "keygate"), "org", "export", "--with-keys", "--database", database,
                                   "--master-key-file", MASTER], capture_output=True, text=True, check=True).stdout
        bcrypt = json.loads(exported.splitlines()[0])["passwordHash"]
        results = {}
        build = import_range(database, 0, 1000, bcrypt)
        settle(database)
        measure(database, 1000, results)
        step = 100_000
        for start in range(1000, N, step):
            build += import_range(database, start, min(N, start + step), bcrypt)
        settle(database)
        measure(database, N, results)
        report("Embedded SQLite" if backend == "sqlite" else "PostgreSQL", results, build)
        sys.stdout.flush()
finally:
    stop_all()
    shutil.rmtree(WORK, ignore_errors=True)
