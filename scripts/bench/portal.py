"""Portal and console page times with 1,000 organizations (run through scripts/bench/portal). Standard library only.

Starts a release `keygate serve` on a new SQLite file, provisions 1,000 organizations through the provider console,
then times each page 50 times from a client on loopback (time to the last byte: server time plus a loopback round
trip, so an upper bound on server time). Prints p50/p99/max per page.
"""

import http.cookiejar
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.join(ROOT, ".build-release", "release", "keygate")
ORGS = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
WORK = tempfile.mkdtemp(prefix="keygate-portal-bench-")
DB = os.path.join(WORK, "k.sqlite")
ENV = dict(os.environ, KEYGATE_SECURITY_BCRYPT_COST="4", KEYGATE_RATELIMIT_PRESET="off", KEYGATE_LOG_LEVEL="warning")


def opener():
    return urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))


def post(o, url, fields):
    return o.open(urllib.request.Request(url, data=urllib.parse.urlencode(fields).encode(), method="POST"))


server = subprocess.Popen([BIN, "serve", "--port", "0", "--json", "--database", DB], stdout=subprocess.PIPE, text=True, env=ENV)
try:
    banner = json.loads(server.stdout.readline())
    base = f"http://127.0.0.1:{banner['port']}"
    ops = json.loads(subprocess.run([BIN, "provider", "create-operator", "--login", "bench", "--database", DB, "--json"],
                                    capture_output=True, text=True, env=ENV, check=True).stdout)
    console = opener()
    post(console, base + "/provider/signin", {"loginName": "bench", "password": ops["password"]})
    csrf = re.search(r'name="csrf" value="([0-9a-f]+)"', console.open(base + "/provider").read().decode()).group(1)
    started = time.time()
    for i in range(ORGS - 1):  # the demo organization is the first
        post(console, base + "/provider/orgs", {"name": f"bench-{i:04d}", "adminLogin": f"admin{i}", "csrf": csrf}).read()
    print(f"provisioned {ORGS} organizations in {time.time() - started:.1f} s")

    for _ in range(600):  # a long audit trail: the audit page shows its newest 200 events
        post(opener(), base + "/portal/signin", {"loginName": banner["username"], "password": banner["password"]}).read()
    portal = opener()
    post(portal, base + "/portal/signin", {"loginName": banner["username"], "password": banner["password"]})
    pages = {
        "portal: API Key Management": "/portal/orgs/1/keys",
        "portal: audit (200 newest of 600+ events)": "/portal/orgs/1/audit",
        "portal: audit CSV (all events)": "/portal/orgs/1/audit.csv",
        "portal: admins": "/portal/orgs/1/admins",
        "portal: roles": "/portal/orgs/1/roles",
        "portal: sign-in page": "/portal/signin",
        f"console: organizations ({ORGS}, first page of 100)": "/provider",
        "console: organizations, search": "/provider?q=bench-09",
        "console: one organization": "/provider/orgs/500",
    }
    print(f"\n| page | p50 | p99 | max |\n|---|---|---|---|")
    for label, path in pages.items():
        client = console if path.startswith("/provider") else portal
        client.open(base + path).read()  # warm
        times = []
        for _ in range(50):
            t = time.perf_counter()
            body = client.open(base + path).read()
            times.append((time.perf_counter() - t) * 1000)
        assert len(body) > 200, f"{path} answered {len(body)} bytes"
        times.sort()
        print(f"| {label} | {times[25]:.1f} ms | {times[49]:.1f} ms | {max(times):.1f} ms |")
finally:
    server.terminate()
    server.wait(timeout=20)
