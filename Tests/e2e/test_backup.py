"""Backups that restore (issue 22): `keygate backup --to FILE` while the server writes (a regenerate every few
milliseconds), the copy checked and private, then restored in a new place: a server started on the copy with the same
master key serves, and the organization's key at backup time logs in there."""

import json
import os
import shutil
import stat
import subprocess
import threading
import time

import pytest

import legacy_api
import requests
from plain_server import PlainServer, keygate_binary

PASSWORD = "Backup!passw0rd"


def test_a_backup_taken_under_writes_restores_and_serves():
    server = PlainServer(KEYGATE_RATELIMIT_PRESET="off")
    restored = None
    try:
        key = server.cli("org", "create", "Kept", "--admin", "ops@kept", "--password-stdin", stdin=PASSWORD + "\n")["apiKey"]
        other = server.cli("org", "create", "Busy", "--admin", "ops@busy", "--password-stdin", stdin=PASSWORD + "\n")["apiKey"]
        session = legacy_api.session(server.base, "ops@busy", other, PASSWORD)
        key_id = requests.get(server.base + "/api/v1/apiKeys", cookies={"JSESSIONID": session}, timeout=10).json()[0]["id"]
        stop, written, refused = threading.Event(), [], []

        def writer():
            while not stop.is_set():
                response = requests.post(server.base + f"/api/v1/apiKeys/{key_id}/regenerate", cookies={"JSESSIONID": session}, timeout=10)
                if response.status_code == 200:
                    written.append(response.json()["keyValue"])
                else:
                    refused.append((response.status_code, response.text[:200]))  # checked by the test, not here

        thread = threading.Thread(target=writer, daemon=True)
        thread.start()
        time.sleep(0.5)
        target = server.directory / "backup" / "keygate-backup.sqlite"
        target.parent.mkdir()
        report = server.cli("backup", "--to", str(target))
        time.sleep(0.3)
        stop.set()
        thread.join(timeout=10)
        assert refused == [] and len(written) > 5  # the server kept writing around the backup, every write answered
        assert report["integrity"] == "ok" and report["organizations"] >= 3 and report["apiKeys"] >= 3, report
        assert "master key is not in the backup" in report["reminder"]
        assert stat.S_IMODE(os.stat(target).st_mode) == 0o600
        # A second backup to the same file is refused: a backup never overwrites.
        again = subprocess.run([keygate_binary(), "backup", "--to", str(target), "--database", server.database], capture_output=True,
                               text=True, env=server.env)
        assert again.returncode != 0 and "exists" in again.stderr

        # Restore: the copy and the same master key in a new place; a server there serves the organization's key.
        place = server.directory / "restored"
        place.mkdir()
        shutil.copy(target, place / "keygate.sqlite")
        shutil.copy(server.directory / "master.key", place / "master.key")
        os.chmod(place / "master.key", 0o600)
        restored = subprocess.Popen([keygate_binary(), "serve", "--port", "0", "--json", "--no-demo", "--database",
                                     str(place / "keygate.sqlite")], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                                    env=server.env)
        banner = json.loads(restored.stdout.readline())
        base = f"http://127.0.0.1:{banner['port']}"
        kept = legacy_api.session(base, "ops@kept", key, PASSWORD)
        assert requests.get(base + "/api/v1/apiKeys", cookies={"JSESSIONID": kept}, timeout=10).json()[0]["keyValue"] == key
        # The busy organization's key in the copy is one the server answered before or during the backup.
        busy_key = subprocess.run([keygate_binary(), "key", "show", "--org", "Busy", "--reveal", "--json", "--database",
                                   str(place / "keygate.sqlite")], capture_output=True, text=True, env=server.env, check=True)
        assert json.loads(busy_key.stdout)["key"] in [other] + written
    finally:
        if restored is not None:
            restored.terminate()
            restored.wait(timeout=20)
        server.close()


def test_backup_on_postgresql_says_to_use_pg_dump_and_writes_nothing():
    from test_multi_instance import PG_URL, Cluster
    if not PG_URL:
        pytest.skip("needs KEYGATE_TEST_POSTGRES_URL (scripts/test sets it)")
    cluster = Cluster()
    try:
        cluster.cli("migrate")
        target = os.path.join(cluster.dir, "never.sqlite")
        out = subprocess.run([keygate_binary(), "backup", "--to", target, "--database", cluster.url, "--master-key-file",
                              cluster.master_key], capture_output=True, text=True, env=cluster.env)
        assert out.returncode != 0 and "pg_dump --format=custom" in out.stderr and "pg_restore" in out.stderr, out.stderr
        assert not os.path.exists(target)
    finally:
        cluster.close()
