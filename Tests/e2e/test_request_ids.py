"""Request ids and `log.format=json` (issue 11, logs): every answer carries `X-Request-Id` (the client's, when it is a
well-formed one), every log line of a request carries it as `request_id`, and in JSON format every line is one JSON
object; at trace level neither format lets a password, key or session id through."""

import json
import re

import requests

from test_defences import Server


def test_json_logs_carry_the_request_id_and_no_secret():
    server = Server(KEYGATE_LOG_FORMAT="json", KEYGATE_LOG_LEVEL="trace")
    try:
        ok = server.login()
        assert ok.status_code == 200
        session = ok.cookies["JSESSIONID"]
        assert re.fullmatch(r"[0-9a-f]{24}", ok.headers["X-Request-Id"]), "an id is made when none is sent"
        refused = server.login(password="Wrong!passw0rd", headers={"X-Request-Id": "trace-4711.a:b_c"})
        assert refused.status_code == 400 and refused.headers["X-Request-Id"] == "trace-4711.a:b_c"
        forged = requests.get(server.base + "/api/v1/apiKeys", headers={"X-Request-Id": "bad id\twith tab", "Cookie": f"JSESSIONID={session}"},
                              timeout=10)
        assert forged.status_code == 200 and re.fullmatch(r"[0-9a-f]{24}", forged.headers["X-Request-Id"]), "a malformed id is replaced"
        missing = requests.get(server.base + "/api/v1/nothing-here", timeout=10)
        assert missing.status_code == 404 and missing.headers.get("X-Request-Id"), "errors carry it too"
        server.close_process()
        lines = server.log.read_text().splitlines()
        records = [json.loads(line) for line in lines]  # every line is one JSON object
        assert all({"ts", "level", "label", "message"} <= set(r) for r in records)
        refusal = [r for r in records if r["message"] == "login refused"]
        assert len(refusal) == 1 and refusal[0]["request_id"] == "trace-4711.a:b_c"
        assert refusal[0]["outcome"] == "invalid" and refusal[0]["login"] == server.username
        text = "\n".join(lines)
        for secret in (server.password, server.api_key, session, "Wrong!passw0rd"):
            assert secret not in text
    finally:
        server.close()
