"""The legacy login as the SDKs make it, for the end-to-end tests that run a server of their own."""

import time

import requests

from go_client import obfuscate


def login(base, username, key, password, path="/api/v1/auth"):
    """One login with a fresh millisecond timestamp (the server refuses a replayed one); returns the response."""
    time.sleep(0.002)
    timestamp = str(int(time.time() * 1000))
    body = {"apiKey": obfuscate(key, timestamp), "username": username, "password": password, "timestamp": timestamp}
    return requests.post(base + path, json=body, timeout=30)


def session(base, username, key, password):
    """A live session id, asserting the login succeeded."""
    response = login(base, username, key, password)
    assert response.status_code == 200, response.text
    return response.cookies["JSESSIONID"]
