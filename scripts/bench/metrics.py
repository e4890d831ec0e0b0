"""Metrics (and usage counting) on vs off on the hot path; see scripts/bench/metrics."""

import os
import statistics
import sys
import urllib.error
import urllib.request

os.environ["BENCH_SECONDS"] = sys.argv[1] if len(sys.argv) > 1 else "10"
ROUNDS = int(sys.argv[2]) if len(sys.argv) > 2 else 5
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402


def server(name, env):
    banner = benchlib.keygate(os.path.join(benchlib.WORK, name + ".sqlite"), env)
    pid = benchlib.PROCESSES[-1].pid
    base = f"http://127.0.0.1:{banner['port']}"
    session = benchlib.login(base, banner["username"], banner["password"], banner["apiKey"])
    return base, session, pid


def cpu_seconds(pid):
    """The server process's user + system CPU time: unlike throughput, not lowered by other tenants of the machine."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


try:
    servers = {"metrics on": server("on", {}), "metrics off": server("off", {"KEYGATE_METRICS_ENABLED": "false"}),
               "both off": server("bare", {"KEYGATE_METRICS_ENABLED": "false", "KEYGATE_USAGE_ENABLED": "false"})}
    with urllib.request.urlopen(servers["metrics on"][0] + "/metrics") as response:
        assert response.status == 200
    try:
        urllib.request.urlopen(servers["metrics off"][0] + "/metrics")
        raise SystemExit("metrics.enabled=false still serves /metrics")
    except urllib.error.HTTPError as error:
        assert error.code == 404
    print(f"machine: {os.cpu_count()} cores; keygate release build; SQLite; wrk -t2 -c32 -d{benchlib.SECONDS}s; "
          f"{ROUNDS} alternating rounds; GET /api/v1/apiKeys with a live session")
    results = {name: [] for name in servers}
    cpu = {name: [] for name in servers}
    for round_ in range(ROUNDS):
        # Alternate which goes first, so neither always runs on a warmer (or hotter) machine.
        order = list(servers) if round_ % 2 == 0 else list(reversed(servers))  # who goes first alternates
        for name in order:
            base, session, pid = servers[name]
            before = cpu_seconds(pid)
            r = benchlib.wrk(base + "/api/v1/apiKeys", headers=[f"Cookie: JSESSIONID={session}"])
            per_request = (cpu_seconds(pid) - before) / (r["rps"] * benchlib.SECONDS) * 1e6
            assert r["non2xx"] == 0, r
            results[name].append(r["rps"])
            cpu[name].append(per_request)
            print(f"  round {round_ + 1} {name:11s} {r['rps']:9.0f} req/s   p50 {r['p50']:.2f} ms   p99 {r['p99']:.2f} ms"
                  f"   server CPU {per_request:.2f} µs/request", flush=True)
    on, off = statistics.median(results["metrics on"]), statistics.median(results["metrics off"])
    # The machine drifts between rounds (a shared host); each round's two runs are back to back, so their ratio is
    # the fairer figure, and its median over the rounds is the one to quote.
    ratios = [a / b for a, b in zip(results["metrics on"], results["metrics off"])]
    print("per-round on/off: " + " ".join(f"{r:.3f}" for r in ratios))
    print(f"median of runs: metrics on {on:.0f} req/s, metrics off {off:.0f} req/s ({100 * (off - on) / off:+.1f} %)")
    print(f"median per-round cost of metrics: {100 * (1 - statistics.median(ratios)):+.1f} % of throughput")
    c_on, c_off = statistics.median(cpu["metrics on"]), statistics.median(cpu["metrics off"])
    print(f"server CPU per request (median): metrics on {c_on:.2f} µs, off {c_off:.2f} µs: {100 * (c_on - c_off) / c_off:+.1f} %")
    # Metrics and usage counting (both on, the default) against neither.
    both = [a / b for a, b in zip(results["metrics on"], results["both off"])]
    print("per-round (metrics + usage)/(neither): " + " ".join(f"{r:.3f}" for r in both))
    print(f"median per-round cost of metrics and usage together: {100 * (1 - statistics.median(both)):+.1f} % of throughput")
finally:
    benchlib.stop_all()
