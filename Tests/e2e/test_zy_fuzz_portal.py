"""Seeded random requests against the portal and the provider console (after the SDK tests, before the log
check): never a 5xx, errors are HTML pages (never the API's JSON), the server stays up, and the key changes only
if a fuzzed request was a valid, CSRF-carrying key action."""

import random
import re
import urllib.parse

import requests

from conftest import ZTW_HOST

PASSWORD = "E2e!passw0rd"


def test_random_portal_and_console_requests_never_produce_a_server_error(keygate, org):
    base = f"https://{ZTW_HOST}"
    signed_in = requests.Session()
    signed_in.post(base + "/portal/signin", data={"loginName": org["username"], "password": PASSWORD})
    cookie = signed_in.cookies.get("kg_portal")
    page = signed_in.get(base + "/portal")
    org_id = re.search(r"/portal/orgs/(\d+)/", page.url).group(1)
    csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', page.text).group(1)
    key_before = keygate.cli("key", "show", "--org", org["name"], "--reveal")["key"]

    paths = ["/portal", "/portal/signin", "/portal/signout", f"/portal/orgs/{org_id}/keys", f"/portal/orgs/{org_id}/keys/edit",
             f"/portal/orgs/{org_id}/keys/add", f"/portal/orgs/{org_id}/keys/nope", f"/portal/orgs/{org_id}/columns",
             f"/portal/orgs/{org_id}/audit", f"/portal/orgs/{org_id}/audit.csv?type=%ff", f"/portal/orgs/{org_id}/admins",
             f"/portal/orgs/{org_id}/admins/1", f"/portal/orgs/{org_id}/roles/1", "/portal/apply-all", "/portal/switch?org=-1",
             "/portal/orgs/99999999999999999999/keys", "/portal/orgs/%00/keys", "/provider", "/provider/signin",
             "/provider/orgs", "/provider/orgs/1", "/provider/orgs/1/key", "/provider/signout"]
    fields = ["loginName", "password", "csrf", "keyValue", "id", "columns", "action", "roleID", "level", "name", "adminLogin",
              "from", "%zz", "", "a" * 300]
    values = ["", "x", "AbC123dEf456", "key,status", "disable", "READ_WRITE", "-1", "99999999999999999999", "%", "\u202e",
              "a" * 5000, csrf]
    rng = random.Random(20261127)
    key_may_change = False
    statuses = {}
    for i in range(500):
        method = rng.choice(["GET", "POST", "POST", "PUT", "DELETE"])
        path = rng.choice(paths)
        headers = {}
        if rng.random() < 0.8:
            headers["Content-Type"] = rng.choice(["application/x-www-form-urlencoded", "application/json", "text/plain", ""])
        if rng.random() < 0.6:
            headers["Cookie"] = f"kg_portal={cookie}"
        elif rng.random() < 0.5:
            headers["Cookie"] = rng.choice(["kg_portal=", "kg_portal=" + ".".join(["f" * 32] * 30), "kg_provider=zz",
                                            "kg_portal=" + "x" * 5000, f"kg_portal={cookie}.{cookie}"])
        if rng.random() < 0.2:
            headers["Origin"] = rng.choice(["null", "https://evil.example", "not a url", base])
        if rng.random() < 0.7:
            pairs = [(rng.choice(fields), rng.choice(values)) for _ in range(rng.randrange(5))]
            body = "&".join(f"{urllib.parse.quote(k, safe='%')}={urllib.parse.quote(v, safe='%')}" for k, v in pairs).encode()
        else:
            body = bytes(rng.randrange(256) for _ in range(rng.randrange(300)))
        response = requests.request(method, base + path, data=body, headers=headers, allow_redirects=False, timeout=30)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
        assert response.status_code < 500, f"request {i}: {method} {path} -> {response.status_code} {response.text[:300]}"
        if response.status_code >= 400:
            assert response.headers.get("Content-Type", "").startswith("text/html"), f"{method} {path}: {response.text[:200]}"
        if response.status_code == 303 and "/keys/" in path and method == "POST":
            key_may_change = True
        if response.status_code == 303 and path == "/portal/signout":
            signed_in.post(base + "/portal/signin", data={"loginName": org["username"], "password": PASSWORD})
            cookie = signed_in.cookies.get("kg_portal")
            csrf = re.search(r'name="csrf" value="([0-9a-f]{64})"', signed_in.get(base + "/portal").text).group(1)
            values[-1] = csrf
    assert requests.get(base + "/health").status_code == 200
    after = keygate.cli("key", "show", "--org", org["name"], "--reveal")["key"]
    keygate.secrets.add(after)
    assert key_may_change or after == key_before
    assert len(statuses) > 3
    print("status counts:", dict(sorted(statuses.items())))
