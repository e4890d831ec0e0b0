"""The Go SDK's exact request sequence (see go_client.py) against a real `keygate serve` over TLS, under the host
name the SDK hard-codes (connector.keygate.net, resolved to the test server by conftest's resolver)."""

import requests

from conftest import ZTW_HOST
from go_client import GoClient

ROOT = f"https://{ZTW_HOST}"


def go(org, product="ztw"):
    return GoClient(ROOT, org["username"], org["password"], org["api_key"], product)


def test_go_client_lists_relogs_in_after_a_401_with_stale_and_new_cookies_regenerates_and_creates(keygate, org):
    client = go(org)
    assert client.login().status_code == 200
    listed = client.request("GET", "/apiKeys?&pageSize=1000&page=1")
    assert listed.status_code == 200 and [k["keyValue"] for k in listed.json()] == [org["api_key"]]
    key_id = listed.json()[0]["id"]

    # The session ends behind the client's back (expiry, an operator): its next call gets a 401, it logs in again,
    # and its jar now sends the stale id first. Keygate must take the valid one, not hand back the 401 body as data.
    stale = client.session_id
    assert requests.delete(f"{ROOT}/api/v1/auth", headers={"Cookie": f"JSESSIONID={stale}"}).status_code == 204
    again = client.request("GET", "/apiKeys?&pageSize=1000&page=1")
    assert again.status_code == 200 and isinstance(again.json(), list) and again.json()[0]["id"] == key_id
    method, url, headers = client.sent[-1]
    assert headers["Cookie"] == f"JSESSIONID={stale}; JSESSIONID={client.session_id}" and client.session_id != stale
    assert headers["JSessionID"] == client.session_id and headers["Content-Type"] == "application/json"

    # Regenerate through the SDK's doubled path, with its body {} and query.
    regenerated = client.request("POST", f"/apiKeys/{key_id}/ztw/api/v1/regenerate?includePartnerKey=false", {})
    assert regenerated.status_code == 200
    new_key = regenerated.json()["keyValue"]
    keygate.secrets.add(new_key)
    assert new_key != org["api_key"] and len(new_key) == 12
    # The calling session moved to the new key and keeps working.
    assert client.request("GET", f"/apiKeys/{key_id}").json()["keyValue"] == new_key

    # Create with the whole key object (omitempty fields): understood; a key exists, so 409 DUPLICATE_ITEM, not
    # "unknown field" and not retried.
    created = client.request("POST", "/apiKeys?includePartnerKey=false", {"keyValue": "Create0Key12", "enabled": True})
    assert created.status_code == 409 and created.json()["code"] == "DUPLICATE_ITEM" and client.retry_waits == []

    # The whole object back with a changed keyValue (what a GET-modify-PUT client sends) is an edit.
    whole = dict(client.request("GET", f"/apiKeys/{key_id}").json(), keyValue="GoWhole0Key1")
    keygate.secrets.add("GoWhole0Key1")
    put = client.request("PUT", f"/apiKeys/{key_id}", whole)
    assert put.status_code == 200 and put.json()["keyValue"] == "GoWhole0Key1"
    refused = client.request("PUT", f"/apiKeys/{key_id}", dict(whole, keyValue="GoWhole0Key2", enabled=False))
    assert refused.status_code == 403 and refused.json()["code"] == "NOT_AUTHORIZED"
    assert keygate.cli("key", "show", "--org", org["name"], "--reveal")["key"] == "GoWhole0Key1"


def test_go_zia_client_checks_its_session_and_logs_out_at_the_server_root(keygate, org):
    client = go(org, product="zia")
    assert client.login().status_code == 200
    check = client.request("GET", "/authenticatedSession")
    assert check.status_code == 200 and check.json()["authType"] == "ADMIN_LOGIN"
    roles = client.request("GET", "/adminRoles/lite")
    assert roles.status_code == 200
    assert all(set(r) == {"id", "rank", "name", "roleType", "reportTimeDuration"} for r in roles.json())
    assert {r["roleType"] for r in roles.json()} == {"ORG_ADMIN"}
    session = client.session_id
    # Close(): DELETE https://zsapi.<cloud>.net/authenticatedSession, no /api/v1; the jar's cookie path is /api, so
    # only the JSessionID header names the session.
    out = requests.delete(f"{ROOT}/authenticatedSession",
                          headers={"JSessionID": session, "Content-Type": "application/json"})
    assert out.status_code == 204 and out.text == ""
    assert requests.get(f"{ROOT}/api/v1/authenticatedSession", headers={"Cookie": f"JSESSIONID={session}"}).status_code == 401


def test_answers_over_tls_are_not_cached_and_pin_https(keygate, org):
    client = go(org)
    client.login()
    listed = client.request("GET", "/apiKeys")
    assert listed.headers["Cache-Control"] == "no-store"
    assert listed.headers["Strict-Transport-Security"].startswith("max-age=")
