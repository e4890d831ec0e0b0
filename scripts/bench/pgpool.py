"""Why the session check without the cache costs what it does on PostgreSQL (issue 10): for each pool size given,
one release server on PostgreSQL with `KEYGATE_SESSION_CACHE=false`, wrk -c32 on GET /api/v1/apiKeys with one
session, and the CPU time Keygate and the PostgreSQL server processes spent per request (from /proc).

Usage: scripts/bench/pgpool [pool sizes, default 2 8 20 40]
"""

import os
import sys

os.environ.setdefault("BENCH_SECONDS", "8")
from benchlib import *  # noqa: E402,F403 (the shared helpers)

FAST = {"KEYGATE_SESSION_CACHE": "false", "KEYGATE_SECURITY_BCRYPT_COST": "4"}


def cpu_ticks(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def postgres_ticks():
    total = 0
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            if open(f"/proc/{pid}/comm").read().startswith("postgres"):
                total += cpu_ticks(pid)
        except OSError:
            pass
    return total


try:
    database = pg_database()
    created = cli(database, "org", "create", "Pool", "--admin", "pool", "--password-stdin", stdin="Pool!passw0rd\n", env=FAST)
    hz = os.sysconf("SC_CLK_TCK")
    print(f"machine: {os.cpu_count()} cores; wrk -t2 -c32 {SECONDS} s; release build; session cache off; one session")
    print("\n| pool | req/s | p50 | p99 | Keygate CPU per request | PostgreSQL CPU per request |")
    print("|---|---|---|---|---|---|")
    for pool in [int(x) for x in (sys.argv[1:] or ["2", "8", "20", "40"])]:
        banner = keygate(database + ("&" if "?" in database else "?") + f"pool={pool}", FAST)
        base = f"http://127.0.0.1:{banner['port']}"
        session = login(base, "pool", "Pool!passw0rd", created["apiKey"])
        headers = [f"Cookie: JSESSIONID={session}"]
        wrk(base + "/api/v1/apiKeys", headers=headers)  # warm-up
        server = PROCESSES[-1]
        k0, p0 = cpu_ticks(server.pid), postgres_ticks()
        r = wrk(base + "/api/v1/apiKeys", headers=headers)
        k1, p1 = cpu_ticks(server.pid), postgres_ticks()
        requests = r["rps"] * SECONDS
        print(f"| {pool} | {r['rps']:,.0f} | {r['p50']:.2f} ms | {r['p99']:.2f} ms | {(k1 - k0) / hz / requests * 1e6:.0f} µs | "
              f"{(p1 - p0) / hz / requests * 1e6:.0f} µs |")
        stop_all()
finally:
    stop_all()
    shutil.rmtree(WORK, ignore_errors=True)
