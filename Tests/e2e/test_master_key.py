"""Online master-key rotation (`keygate master-key`): under a running load no request fails and no stored key stays
under the old key; a wrong key file changes nothing; an interrupted rotation resumes. The several-instance case on
PostgreSQL is in test_multi_instance.py."""

import json
import os
import signal
import subprocess
import threading
import time

import requests

from conftest import keygate_binary
import legacy_api
from plain_server import PlainServer

PASSWORD = "Rotate!passw0rd"


def import_orgs(server, count, prefix):
    """`count` organizations with known keys, by `keygate org import`; returns {name: (login, key)}."""
    rows, orgs = [], {}
    for i in range(count):
        key = f"{prefix[:4]}{i:08d}"[:12].ljust(12, "x")
        orgs[f"{prefix}-{i}"] = (f"admin{i}@{prefix}", key)
        rows.append(json.dumps({"organization": f"{prefix}-{i}", "login": f"admin{i}@{prefix}", "password": PASSWORD, "key": key}))
    path = server.directory / f"{prefix}.jsonl"
    path.write_text("\n".join(rows) + "\n")
    server.cli("org", "import", str(path))
    return orgs


def login(base, username, key):
    response = legacy_api.login(base, username, key, PASSWORD)
    return response.cookies.get("JSESSIONID"), response


class Load:
    """Clients that log in and list their key in a loop until stopped, counting every answer that is not 200."""

    def __init__(self, bases, orgs):
        self.bases, self.orgs = bases, list(orgs.values())
        self.stop = threading.Event()
        self.ok, self.failures = 0, []
        self.threads = [threading.Thread(target=self.run, args=(i,)) for i in range(4)]

    def run(self, index):
        base = self.bases[index % len(self.bases)]
        username, key = self.orgs[index]
        while not self.stop.is_set():
            session, response = login(base, username, key)
            if response.status_code != 200:
                self.failures.append(("login", response.status_code, response.text))
                continue
            self.ok += 1
            for _ in range(10):
                listed = requests.get(base + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=30)
                if listed.status_code == 200 and listed.json()[0]["keyValue"] == key:
                    self.ok += 1
                else:
                    self.failures.append(("list", listed.status_code, listed.text))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join(timeout=60)


def cli(server, *args, key_file=None, check=True):
    env = dict(server.env, **({"KEYGATE_MASTER_KEY_FILE": key_file} if key_file else {}))
    result = subprocess.run([keygate_binary(), *args, "--database", server.database], capture_output=True, text=True, env=env,
                            timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def generate(path, check=True):
    result = subprocess.run([keygate_binary(), "master-key", "generate", "--out", str(path), "--json"], capture_output=True, text=True,
                            timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def status(server, key_file=None):
    return json.loads(cli(server, "master-key", "status", "--json", key_file=key_file).stdout)


def test_rotation_under_load_loses_no_request_and_leaves_no_row_under_the_old_key():
    server = PlainServer(KEYGATE_RATELIMIT_PRESET="off", KEYGATE_SECURITY_BCRYPT_COST="4")
    try:
        orgs = import_orgs(server, 200, "load")
        master = server.directory / "master.key"
        old_copy = server.directory / "old.key"
        old_copy.write_text(master.read_text())
        old_copy.chmod(0o600)
        old_id = status(server)["sealsWith"]
        new_key = server.directory / "new.key"
        generated = json.loads(generate(new_key).stdout)
        assert oct(os.stat(new_key).st_mode & 0o777) == "0o600"

        with Load([server.base], orgs) as load:
            time.sleep(1)
            rotated = cli(server, "master-key", "rotate", "--new-key-file", str(new_key), "--batch", "20", "--json")
            time.sleep(1)
        out = json.loads(rotated.stdout)
        assert out["keyId"] == generated["keyId"] != old_id
        assert out["storedKeys"] == 201 and out["resealed"] + out["alreadyCurrent"] == 201
        assert "waiting for" in rotated.stderr or "installed" in rotated.stderr
        assert load.failures == [] and load.ok > 100, (load.failures[:5], load.ok)

        census = status(server)
        assert census["storedKeys"] == {generated["keyId"]: 201}
        assert [s["sealsWith"] for s in census["servers"]] == [generated["keyId"]]
        # The old key alone opens nothing any more.
        refused = cli(server, "key", "show", "--org", "load-1", key_file=str(old_copy), check=False)
        assert refused.returncode != 0 and "does not open" in refused.stderr

        # The previous key goes; the server drops it within 2 s and keeps serving.
        os.remove(str(master) + ".previous")
        time.sleep(3)
        assert status(server)["servers"][0]["opensWith"] == [generated["keyId"]]
        session, response = login(server.base, *orgs["load-7"])
        assert response.status_code == 200
        listed = requests.get(server.base + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=30)
        assert listed.json()[0]["keyValue"] == orgs["load-7"][1]
        assert "error" not in server.log_path.read_text().lower()
    finally:
        server.close()


def test_a_wrong_key_file_stops_before_changing_anything():
    server = PlainServer(KEYGATE_SECURITY_BCRYPT_COST="4")
    try:
        before = status(server)
        garbage = server.directory / "garbage.key"
        garbage.write_text("not a key\n")
        refused = cli(server, "master-key", "rotate", "--new-key-file", str(garbage), check=False)
        assert refused.returncode != 0 and "garbage.key" in refused.stderr
        # The configured (current) key is not the one the database was made with.
        wrong = server.directory / "wrong.key"
        generate(wrong)
        new_key = server.directory / "new.key"
        generate(new_key)
        refused = cli(server, "master-key", "rotate", "--new-key-file", str(new_key), key_file=str(wrong), check=False)
        assert refused.returncode != 0 and "does not open" in refused.stderr
        assert not os.path.exists(str(wrong) + ".previous")
        assert status(server) == before
        assert not os.path.exists(str(server.directory / "master.key") + ".previous")
        # generate never overwrites.
        again = generate(new_key, check=False)
        assert again.returncode != 0 and "exists" in again.stderr
    finally:
        server.close()


def test_an_interrupted_rotation_resumes_where_it_stopped():
    server = PlainServer(KEYGATE_SECURITY_BCRYPT_COST="4")
    try:
        import_orgs(server, 1500, "many")
        new_key = server.directory / "new.key"
        new_id = json.loads(generate(new_key).stdout)["keyId"]
        rotation = subprocess.Popen([keygate_binary(), "master-key", "rotate", "--new-key-file", str(new_key), "--batch", "1",
                                     "--database", server.database], stderr=subprocess.PIPE, text=True, env=server.env)
        for line in rotation.stderr:
            if line.startswith("re-sealed"):
                break
        rotation.send_signal(signal.SIGKILL)
        rotation.wait(timeout=30)
        census = status(server)["storedKeys"]
        assert census.get(new_id, 0) >= 1 and sum(census.values()) == 1501 and len(census) == 2, census

        resumed = cli(server, "master-key", "rotate", "--new-key-file", str(new_key), "--batch", "100", "--json")
        out = json.loads(resumed.stdout)
        assert out["storedKeys"] == 1501 and out["alreadyCurrent"] >= 1 and out["resealed"] == 1501 - out["alreadyCurrent"]
        assert status(server)["storedKeys"] == {new_id: 1501}
    finally:
        server.close()
