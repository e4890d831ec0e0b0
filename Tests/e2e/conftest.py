"""End-to-end fixtures: a real `keygate serve` over HTTPS with a throwaway CA, and a test-only resolver.

The official SDK's LegacyZTWClient hard-codes https://connector.<cloud>.net. Instead of editing the SDK or
/etc/hosts, the tests install a resolver for this process only: `connector.keygate.net` (and 127.0.0.1) reach
the local TLS server, loopback reaches loopback, and every other host is refused, so no test can ever send traffic off this machine. TLS is
verified for real against the test CA (REQUESTS_CA_BUNDLE), with the SDK's own hostname.
"""

import datetime
import ipaddress
import json
import os
import pathlib
import socket
import subprocess
import tempfile
import time

import pytest
import urllib3.util.connection
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

ROOT = pathlib.Path(__file__).resolve().parents[2]
CLOUD = "keygate"
ZTW_HOST = f"connector.{CLOUD}.net"
STATE = {"port": None}

_original_create_connection = urllib3.util.connection.create_connection


def _test_resolver(address, *args, **kwargs):
    host, port = address
    if host == ZTW_HOST and STATE["port"]:
        return _original_create_connection(("127.0.0.1", STATE["port"]), *args, **kwargs)
    if host in ("127.0.0.1", "localhost"):
        return _original_create_connection(("127.0.0.1", port), *args, **kwargs)
    raise ConnectionRefusedError(f"e2e tests reach only Keygate on this machine, not {host}:{port}")


urllib3.util.connection.create_connection = _test_resolver


def keygate_binary():
    path = os.environ.get("KEYGATE_BIN") or str(ROOT / ".build" / "debug" / "keygate")
    assert os.path.exists(path), f"build keygate first (swift build): {path} is missing"
    return path


def _write_test_ca(directory):
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Keygate e2e test CA")])
    ca = (
        x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True, content_commitment=False,
                                     key_encipherment=False, data_encipherment=False, key_agreement=False,
                                     encipher_only=False, decipher_only=False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder().subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, ZTW_HOST)]))
        .issuer_name(ca_name).public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(ZTW_HOST), x509.DNSName("localhost"),
                                                    x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    paths = {name: directory / f"{name}.pem" for name in ("ca", "cert", "key")}
    paths["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    paths["cert"].write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    paths["key"].write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    return paths


class Keygate:
    """A running `keygate serve` and the demo organization it provisioned."""

    def __init__(self, process, banner, database, env):
        self.process = process
        self.port = int(banner["port"])
        self.username = banner["username"]
        self.password = banner["password"]
        self.api_key = banner["apiKey"]
        self.database = database
        self.env = env
        self.base = f"https://127.0.0.1:{self.port}"
        self.log_path = None
        self.secrets = {banner["apiKey"], banner["password"]}

    def cli(self, *args, stdin=None):
        """Runs the operator CLI on the same database while the server runs; returns parsed --json output."""
        result = subprocess.run([keygate_binary(), *args, "--database", self.database, "--json"], input=stdin,
                                capture_output=True, text=True, env=self.env, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)


@pytest.fixture(scope="session")
def keygate():
    directory = pathlib.Path(tempfile.mkdtemp(prefix="keygate-e2e-"))
    tls = _write_test_ca(directory)
    database = str(directory / "data" / "keygate.sqlite")
    # The fuzzers send hundreds of portal requests a second from one address: above the portal's default limit.
    # Usage is written every second here (60 by default), so that tests read it without waiting a minute.
    # Webhook receivers in the tests listen on loopback over plain HTTP: allowed here only.
    env = dict(os.environ, KEYGATE_SECURITY_BCRYPT_COST="8", KEYGATE_LOG_LEVEL="trace", KEYGATE_USAGE_FLUSH_SECONDS="1",
               KEYGATE_WEBHOOKS_ALLOW_HTTP="true", KEYGATE_WEBHOOKS_ALLOW_PRIVATE_TARGETS="true", KEYGATE_WEBHOOKS_RETRY_BASE_SECONDS="1",
               KEYGATE_PORTAL_REQUESTS_PER_SECOND="100000", KEYGATE_PORTAL_REQUESTS_PER_MINUTE="1000000")
    process = subprocess.Popen(
        [keygate_binary(), "serve", "--port", "0", "--database", database, "--tls-cert", str(tls["cert"]),
         "--tls-key", str(tls["key"]), "--json"],
        stdout=subprocess.PIPE, stderr=open(directory / "server.log", "w"), text=True, env=env)
    deadline = time.time() + 60
    banner = None
    while time.time() < deadline and banner is None:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith("{"):
            banner = json.loads(line)
    assert banner is not None, (directory / "server.log").read_text()
    STATE["port"] = int(banner["port"])
    os.environ["REQUESTS_CA_BUNDLE"] = str(tls["ca"])
    os.environ["ZIA_OVERRIDE_URL"] = f"https://127.0.0.1:{STATE['port']}"
    server = Keygate(process, banner, database, env)
    server.log_path = directory / "server.log"
    yield server
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture
def org(keygate, request):
    """A fresh organization provisioned by the CLI, so each test owns its key."""
    name = f"org-{request.node.name}"[:90]
    password = "E2e!passw0rd"
    out = keygate.cli("org", "create", name, "--admin", f"admin@{name}", "--password-stdin", stdin=password + "\n")
    keygate.secrets.update({out["apiKey"], password})
    return {"name": name, "username": out["username"], "password": password, "api_key": out["apiKey"]}
