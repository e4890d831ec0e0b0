"""The operator CLI against the database the running server uses."""

import json
import os
import subprocess

from conftest import keygate_binary


def run(keygate, *args, stdin=None):
    return subprocess.run([keygate_binary(), *args, "--database", keygate.database], input=stdin, capture_output=True,
                          text=True, env=keygate.env, timeout=120)


def test_a_wrong_master_key_is_refused_before_anything_runs(keygate, tmp_path):
    wrong = tmp_path / "wrong.key"
    wrong.write_text("11" * 32 + "\n")
    wrong.chmod(0o600)
    result = run(keygate, "org", "list", "--master-key-file", str(wrong))
    assert result.returncode != 0
    assert "master key does not open" in result.stderr


def test_a_master_key_file_others_can_read_or_replace_is_refused(keygate, tmp_path):
    """As OpenSSH refuses a private key others can read: nothing runs, and the message says how to fix it."""
    key = tmp_path / "shared.key"
    key.write_text(keygate.env.get("KEYGATE_MASTER_KEY", "22" * 32) + "\n")
    for mode in (0o644, 0o606, 0o620):
        key.chmod(mode)
        result = run(keygate, "org", "list", "--master-key-file", str(key))
        assert result.returncode == 1, (oct(mode), result.stderr)
        assert f"chmod 600 {key}" in result.stderr and oct(mode)[2:] in result.stderr, result.stderr
    key.chmod(0o640)  # group read is allowed (root:keygate 0640); the key is then judged on its merits
    result = run(keygate, "org", "list", "--master-key-file", str(key))
    assert "chmod" not in result.stderr, result.stderr


def test_cli_errors_are_clear_and_change_nothing(keygate, org):
    missing = run(keygate, "key", "show", "--org", "no-such-org")
    assert missing.returncode == 1 and "organization no-such-org not found" in missing.stderr
    dup = run(keygate, "org", "create", org["name"], "--admin", "someone")
    assert dup.returncode == 1 and "already exists" in dup.stderr
    weak = run(keygate, "admin", "create", "--org", org["name"], "--login", "weak", "--password-stdin", stdin="short\n")
    assert weak.returncode == 1 and "password" in weak.stderr
    policy = run(keygate, "org", "set-rotation-policy", "--org", org["name"], "--policy", "sometimes")
    assert policy.returncode != 0
    admins = keygate.cli("admin", "list", "--org", org["name"])
    assert [a["loginName"] for a in admins] == [org["username"]]


def test_cli_admin_lifecycle_and_rotation_policy(keygate, org):
    created = keygate.cli("admin", "create", "--org", org["name"], "--login", "second", "--password-stdin", stdin="Sec0nd!pass\n")
    assert created["loginName"] == "second"
    disabled = keygate.cli("admin", "disable", "--org", org["name"], "--login", "second")
    assert disabled["disabled"] == "true"
    policy = keygate.cli("org", "set-rotation-policy", "--org", org["name"], "--policy", "grace:300")
    assert policy["rotationPolicy"] == "grace:300"
    listed = [o for o in keygate.cli("org", "list") if o["name"] == org["name"]][0]
    assert listed["rotationPolicy"] == "grace:300" and listed["admins"] == 2
    regenerated = keygate.cli("key", "regenerate", "--org", org["name"])
    assert regenerated["key"] != org["api_key"] and regenerated["lastModifiedBy"].startswith("provider:")


def operator(tmp_path, *args, env=None):
    """The CLI as a new operator runs it: from an empty folder, without the test server's settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("KEYGATE_")}
    return subprocess.run([keygate_binary(), *args], capture_output=True, text=True, cwd=tmp_path, timeout=60,
                          env=dict(clean, **(env or {})))


def test_a_typo_in_the_database_path_creates_nothing(tmp_path):
    result = operator(tmp_path, "org", "list", "--database", str(tmp_path / "a" / "typo.sqlite"))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"Error: there is no Keygate database at {tmp_path}/a/typo.sqlite: check --database (or KEYGATE_DATABASE); "
        "`keygate serve` or `keygate migrate` creates a new one"]
    assert list(tmp_path.iterdir()) == [], "no database, directory or master key was created"


def test_an_unreachable_postgresql_is_one_line_and_leaves_no_master_key_behind(tmp_path):
    key = tmp_path / "master.key"
    key.write_text("ab" * 32 + "\n")
    key.chmod(0o600)
    url = "postgres://keygate:s3cret@127.0.0.1:1/keygate?connectTimeout=2"
    result = operator(tmp_path, "org", "list", "--database", url, "--master-key-file", str(key))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "Error: cannot reach the database: postgres://keygate:***@127.0.0.1:1/keygate: no answer within 2 s"]
    # Without a key: PostgreSQL deployments never get one made for them, by any command.
    for command in (["org", "list"], ["migrate"], ["serve", "--port", "0"]):
        result = operator(tmp_path, *command, "--database", url)
        assert result.returncode == 1, command
        assert "no master key at ./keygate-data/master.key" in result.stderr and "never makes one for PostgreSQL" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["master.key"]


def test_only_migrate_and_serve_create_a_database_and_say_so(tmp_path):
    database = tmp_path / "new" / "keygate.sqlite"
    refused = operator(tmp_path, "admin", "list", "--org", "x", "--database", str(database))
    assert refused.returncode == 1 and not (tmp_path / "new").exists()
    created = operator(tmp_path, "migrate", "--database", str(database))
    assert created.returncode == 0, created.stderr
    assert "created a new database" in created.stderr and "generated a new master key" in created.stderr
    assert database.exists() and (tmp_path / "new" / "master.key").exists()
    # Another master key than the one it was created with is refused; the right one (found next to it) works.
    wrong = operator(tmp_path, "org", "list", "--database", str(database), "--master-key-file", str(tmp_path / "none.key"))
    assert wrong.returncode == 1 and "no master key at" in wrong.stderr and not (tmp_path / "none.key").exists()
    assert operator(tmp_path, "org", "list", "--database", str(database), "--json").returncode == 0


def test_housekeeping_deletes_expired_sessions_now(tmp_path):
    """`keygate housekeeping` runs one pass: a session idle past its timeout is gone and counted, a live one stays."""
    import sqlite3  # noqa: PLC0415
    import time  # noqa: PLC0415

    database = tmp_path / "k.sqlite"
    assert operator(tmp_path, "migrate", "--database", str(database)).returncode == 0
    with sqlite3.connect(database) as db:
        now = int(time.time() * 1000)
        for token, seen in (("idle", now - 3 * 3600 * 1000), ("live", now)):
            db.execute("INSERT INTO sessions (token_hash, org_id, admin_id, key_id, key_version, kind, created_at, last_seen_at) "
                       "VALUES (?, 1, 1, 1, 1, 'ztw', ?, ?)", (token, seen, seen))
    db.close()
    result = operator(tmp_path, "housekeeping", "--database", str(database), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["apiSessionsRemoved"] == 1
    with sqlite3.connect(database) as db:
        assert [row[0] for row in db.execute("SELECT token_hash FROM sessions")] == ["live"]
    db.close()
