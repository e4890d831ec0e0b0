"""A client that sends exactly what the official Go SDK (zscaler-sdk-go v3.8.35-v3.8.40, the legacy `ztw` and `zia`
clients the Terraform providers use) sends. The Go toolchain and its modules are not reachable here, so this is
written from the facts in ../shared/reference/legacy-api.md §7, read from its sources:

- every call carries `Content-Type: application/json` (GET and DELETE too), `User-Agent: zscaler-sdk-go/…` and its
  own `JSessionID: <id>` request header;
- login: `{"username","password","apiKey","timestamp"}` with the timestamp as a JSON *string*; only 200 is success;
  the id comes from the first Set-Cookie by the regex `JSESSIONID=(.*?);`;
- after a 401 (or a body containing SESSION_NOT_VALID) it logs in again and re-sends the same request, and its
  cookie jar then sends the stale and the new id together, stale first; after 5 tries it hands the last body to
  its caller as if it were the result;
- it retries 429, 5xx except 501, and 409 EDIT_LOCK_NOT_AVAILABLE, sleeping Retry-After (here: recorded, not slept);
- regenerate goes to `/apiKeys/{id}/ztw/api/v1/regenerate?includePartnerKey=false` with `{}`; create sends the whole
  key object to `/apiKeys?includePartnerKey=false`; list is `/apiKeys?&pageSize=1000&page=N`;
- ZIA logs out with `DELETE https://zsapi.<cloud>.net/authenticatedSession` (no /api/v1).
"""

import json
import re
import time

import requests

USER_AGENT = "zscaler-sdk-go/3.8.40 golang/go1.22.5 linux/amd64"


def obfuscate(key, timestamp):
    n = str(timestamp)[-6:]
    r = str(int(n) >> 1).zfill(6)
    return "".join(key[int(c)] for c in n) + "".join(key[int(c) + 2] for c in r)


class GoClient:
    def __init__(self, root, username, password, api_key, product="ztw"):
        self.root = root  # https://connector.<cloud>.net (ZIA: https://zsapi.<cloud>.net)
        self.base = root + "/api/v1"
        self.username, self.password, self.api_key = username, password, api_key
        self.login_path = "/auth" if product == "ztw" else "/authenticatedSession"
        self.jar = []  # JSESSIONID values the jar sends, oldest first
        self.session_id = None
        self.sent = []  # (method, url, headers) of every request, for the test to inspect
        self.retry_waits = []

    def headers(self):
        h = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
        if self.session_id:
            h["JSessionID"] = self.session_id
        if self.jar:
            h["Cookie"] = "; ".join(f"JSESSIONID={v}" for v in self.jar)
        return h

    def _send(self, method, url, body):
        headers = self.headers()
        self.sent.append((method, url, headers))
        data = None if body is None else json.dumps(body)
        return requests.request(method, url, headers=headers, data=data, timeout=30)

    def login(self):
        timestamp = str(int(time.time() * 1000))
        body = {"username": self.username, "password": self.password, "apiKey": obfuscate(self.api_key, timestamp),
                "timestamp": timestamp}
        response = requests.post(self.base + self.login_path, data=json.dumps(body), timeout=30,
                                 headers={"Content-Type": "application/json", "User-Agent": USER_AGENT})
        if response.status_code != 200:
            return response
        match = re.search(r"JSESSIONID=(.*?);", response.headers["Set-Cookie"])
        self.session_id = match.group(1)
        self.jar.append(self.session_id)
        return response

    def request(self, method, path, body=None):
        """One SDK call: re-login on 401 up to 5 tries, retry 429/5xx/EDIT_LOCK (waits recorded, at most 3 here)."""
        url = path if path.startswith("http") else self.base + path
        response = None
        for _ in range(5):
            response = self._send(method, url, body)
            retries = 0
            while self._retryable(response) and retries < 3:
                self.retry_waits.append(int(response.headers.get("Retry-After", "5")))
                response = self._send(method, url, body)
                retries += 1
            if response.status_code == 401 or "SESSION_NOT_VALID" in response.text:
                self.login()
                continue
            return response
        return response

    @staticmethod
    def _retryable(response):
        if response.status_code == 429 or (response.status_code >= 500 and response.status_code != 501):
            return True
        return response.status_code == 409 and "EDIT_LOCK_NOT_AVAILABLE" in response.text
