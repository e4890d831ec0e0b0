"""TLS certificates reload without a restart (issue 22): the certificate and key files of a running `keygate serve`
are replaced under load; new connections get the new certificate within a few seconds (the files are looked at every
2 s, and at once on SIGHUP), no request fails, and a pair that does not match is refused with an error in the log while
the one in force keeps serving."""

import hashlib
import json
import os
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
from pathlib import Path

import requests

from conftest import _write_test_ca, keygate_binary


def served_fingerprint(port, ca_bundle):
    context = ssl.create_default_context(cafile=ca_bundle)
    with socket.create_connection(("127.0.0.1", port), timeout=5) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def fingerprint(path):
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(Path(path).read_text())).hexdigest()


def wait_for(condition, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return False


def replace(path, content):
    """Replaces `path` atomically, as certificate managers do (write beside it, rename over it)."""
    temporary = str(path) + ".new"
    Path(temporary).write_bytes(content)
    os.replace(temporary, path)


def test_a_replaced_certificate_serves_new_connections_without_a_restart_and_a_bad_pair_is_refused():
    directory = Path(tempfile.mkdtemp(prefix="keygate-tls-"))
    (directory / "a").mkdir()
    (directory / "b").mkdir()
    first, second = _write_test_ca(directory / "a"), _write_test_ca(directory / "b")
    bundle = directory / "cas.pem"
    bundle.write_text(Path(first["ca"]).read_text() + Path(second["ca"]).read_text())
    cert, key = directory / "cert.pem", directory / "key.pem"
    cert.write_bytes(Path(first["cert"]).read_bytes())
    key.write_bytes(Path(first["key"]).read_bytes())
    os.chmod(key, 0o600)
    log = directory / "server.log"
    process = subprocess.Popen([keygate_binary(), "serve", "--port", "0", "--json", "--no-demo", "--database", str(directory / "k.sqlite"),
                                "--tls-cert", str(cert), "--tls-key", str(key)], stdout=subprocess.PIPE, stderr=open(log, "w"),
                               text=True, env=dict(os.environ, KEYGATE_SECURITY_BCRYPT_COST="6"))
    try:
        port = json.loads(process.stdout.readline())["port"]
        base = f"https://localhost:{port}"
        assert served_fingerprint(port, str(bundle)) == fingerprint(first["cert"])

        stop, failures, answered = threading.Event(), [], []

        def load(keep_alive):
            client = requests.Session() if keep_alive else requests
            while not stop.is_set():
                try:
                    response = client.get(base + "/health", verify=str(bundle), timeout=10)
                    answered.append(1)
                    if response.status_code != 200:
                        failures.append(response.status_code)
                except requests.RequestException as error:
                    failures.append(repr(error))
                time.sleep(0.01)

        threads = [threading.Thread(target=load, args=(k,), daemon=True) for k in (True, False, False)]
        for t in threads:
            t.start()
        time.sleep(0.5)

        # The certificate is renewed: the key first, then the certificate (a moment in between holds a mismatched
        # pair, which must not be served).
        replace(key, Path(second["key"]).read_bytes())
        time.sleep(0.2)
        replace(cert, Path(second["cert"]).read_bytes())
        assert wait_for(lambda: served_fingerprint(port, str(bundle)) == fingerprint(second["cert"]), timeout=8), "not reloaded"

        # A mismatched pair (the first certificate with the second key) is refused; the second pair keeps serving.
        replace(cert, Path(first["cert"]).read_bytes())
        time.sleep(3)
        assert served_fingerprint(port, str(bundle)) == fingerprint(second["cert"])
        assert wait_for(lambda: "does not load: keeping the one in force" in log.read_text(), timeout=5)

        # Whole again (and a SIGHUP, which looks at once): the first pair serves.
        replace(key, Path(first["key"]).read_bytes())
        process.send_signal(signal.SIGHUP)
        assert wait_for(lambda: served_fingerprint(port, str(bundle)) == fingerprint(first["cert"]), timeout=3)

        stop.set()
        for t in threads:
            t.join(timeout=15)
        assert len(answered) > 100 and failures == [], failures[:5]
        assert process.poll() is None, "the server restarted or died"
    finally:
        process.terminate()
        process.wait(timeout=20)
