"""Keygate's hot path paired with bare Hummingbird in one run; see scripts/bench/hotpath. Standard library only.

Rounds alternate which server goes first, so drift on a shared machine falls on both alike; the figure to read is
the median of the per-round ratios (Keygate's req/s over bare's in the same round). Then one paced run of each at
a fixed rate (scripts/bench/paced.lua) gives p50/p99 at a load both can carry.
"""

import argparse
import os
import statistics
import sys
import urllib.request

parser = argparse.ArgumentParser(prog="scripts/bench/hotpath")
parser.add_argument("rounds", nargs="?", type=int, default=3)
parser.add_argument("seconds", nargs="?", type=int, default=10)
parser.add_argument("--guard", type=float, help="exit 1 when the median ratio is below this in every attempt")
parser.add_argument("--attempts", type=int, default=3,
                    help="with --guard: series of rounds to try before failing (a shared machine's noise rarely lasts)")
parser.add_argument("--rate", type=int, default=4000, help="requests a second of the paced run (0: no paced run)")
args = parser.parse_args()

os.environ["BENCH_SECONDS"] = str(args.seconds)
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

DEFAULTS = {"KEYGATE_LOG_LEVEL": "info"}  # benchlib quiets logs to warning; the hot path is measured as shipped


def paced(url, session=None, connections=16):
    env = {"KG_RATE": str(args.rate), "KG_CONNECTIONS": str(connections), "KG_SESSION": session or ""}
    return benchlib.wrk(url, connections=connections, script=os.path.join(benchlib.ROOT, "scripts", "bench", "paced.lua"), env=env)


try:
    banner = benchlib.keygate(os.path.join(benchlib.WORK, "hotpath.sqlite"), DEFAULTS)
    base = f"http://127.0.0.1:{banner['port']}"
    session = benchlib.login(base, banner["username"], banner["password"], banner["apiKey"])
    keys_url = base + "/api/v1/apiKeys"
    _, bare = benchlib.start([os.path.join(benchlib.BIN, "KeygateBareServer")])
    bare_url = f"http://127.0.0.1:{bare['port']}/bare"
    cookie = [f"Cookie: JSESSIONID={session}"]

    # Both answer 200 with a JSON body of the same shape before anything is timed.
    with urllib.request.urlopen(urllib.request.Request(keys_url, headers={"Cookie": f"JSESSIONID={session}"})) as r:
        keygate_body = r.read()
    with urllib.request.urlopen(bare_url) as r:
        bare_body = r.read()
    assert len(keygate_body) == len(bare_body), (keygate_body, bare_body)

    print(f"machine: {os.cpu_count()} cores; release builds; embedded SQLite; wrk -t2 -c32 -d{args.seconds}s; "
          f"{args.rounds} rounds, alternating which goes first")
    benchlib.wrk(bare_url)  # warm-up, both
    benchlib.wrk(keys_url, headers=cookie)

    def series():
        print("\n| round | keygate req/s | p50 | p99 | bare req/s | p50 | p99 | ratio |")
        print("|---|---|---|---|---|---|---|---|")
        ratios = []
        for round in range(1, args.rounds + 1):
            if round % 2:
                k = benchlib.wrk(keys_url, headers=cookie)
                b = benchlib.wrk(bare_url)
            else:
                b = benchlib.wrk(bare_url)
                k = benchlib.wrk(keys_url, headers=cookie)
            for name, r in (("keygate", k), ("bare", b)):
                if r["non2xx"]:
                    raise SystemExit(f"{name}: {r['non2xx']} answers were not 2xx")
            ratios.append(k["rps"] / b["rps"])
            print(f"| {round} | {k['rps']:,.0f} | {k['p50']:.2f} ms | {k['p99']:.2f} ms | {b['rps']:,.0f} | "
                  f"{b['p50']:.2f} ms | {b['p99']:.2f} ms | {ratios[-1]:.3f} |", flush=True)
        median = statistics.median(ratios)
        print(f"\nmedian ratio to bare: {median:.3f} (rounds: {' '.join(f'{r:.3f}' for r in ratios)})", flush=True)
        return median

    median = series()
    attempt = 1
    while args.guard is not None and median < args.guard and attempt < args.attempts:
        attempt += 1
        print(f"\nbelow the guard's {args.guard}: attempt {attempt} of {args.attempts}", flush=True)
        median = series()

    if args.rate:
        k = paced(keys_url, session)
        b = paced(bare_url)
        print(f"\nat a fixed rate of {args.rate:,} req/s offered (wrk -t2 -c16, paced; {args.seconds} s each):\n")
        print("| server | reached req/s | p50 | p99 |")
        print("|---|---|---|---|")
        for name, r in (("keygate `GET /api/v1/apiKeys`", k), ("bare Hummingbird `GET /bare`", b)):
            print(f"| {name} | {r['rps']:,.0f} | {r['p50']:.3f} ms | {r['p99']:.3f} ms |")

    if args.guard is not None and median < args.guard:
        print(f"\nFAIL: the hot path is at {median:.3f} of bare Hummingbird, below the guard's {args.guard} "
              f"in {attempt} attempts", file=sys.stderr)
        sys.exit(1)
finally:
    benchlib.stop_all()
