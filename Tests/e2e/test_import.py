"""`keygate org import` and `org export`: bad rows, duplicates, resume after an interruption, a round trip."""

import json
import os
import signal
import subprocess

from conftest import keygate_binary


def cli(tmp_path, database, *args, stdin=None, check=True):
    env = dict(os.environ, KEYGATE_SECURITY_BCRYPT_COST="4", KEYGATE_MASTER_KEY_FILE=str(tmp_path / f"{os.path.basename(database)}.key"))
    if not (tmp_path / database).exists():
        # As an operator does on a new server: only `migrate` (or `serve`) creates a database and its master key.
        subprocess.run([keygate_binary(), "migrate", "--database", str(tmp_path / database)], env=env, check=True,
                       capture_output=True, timeout=120)
    result = subprocess.run([keygate_binary(), *args, "--database", str(tmp_path / database)], input=stdin, capture_output=True,
                            text=True, env=env, timeout=300)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def exported(tmp_path, database, *flags):
    out = cli(tmp_path, database, "org", "export", *flags).stdout
    return [json.loads(line) for line in out.splitlines()]


def a_hash(tmp_path):
    """A real bcrypt hash, made by Keygate itself."""
    cli(tmp_path, "hash.sqlite", "org", "create", "Hash", "--admin", "hash", "--password-stdin", stdin="Hash!passw0rd\n")
    return exported(tmp_path, "hash.sqlite", "--with-keys")[0]["passwordHash"]


def test_bad_rows_and_duplicates_are_reported_by_line_and_change_nothing(tmp_path):
    bcrypt = a_hash(tmp_path)
    cli(tmp_path, "k.sqlite", "org", "create", "Taken", "--admin", "taken")
    lines = [
        json.dumps({"organization": "Good One", "login": "good1", "passwordHash": bcrypt, "key": "GoodKey00001"}),
        json.dumps({"organization": "Good Two", "login": "good2", "password": "Passw0rd!two"}),
        "{not json",
        json.dumps({"organization": "Uses Taken Login", "login": "TAKEN", "password": "Passw0rd!x1"}),
        json.dumps({"organization": "Weak", "login": "weak", "password": "short"}),
        json.dumps({"organization": "Fake Hash", "login": "fake", "passwordHash": "$2b$12$tooshort"}),
        json.dumps({"organization": "Both", "login": "both", "password": "Passw0rd!x1", "passwordHash": bcrypt}),
        json.dumps({"organization": "Bad Key", "login": "badkey", "password": "Passw0rd!x1", "key": "short"}),
        json.dumps({"organization": "Good One", "login": "again", "password": "Passw0rd!x1"}),
        json.dumps({"organization": "Same Login", "login": "GOOD2", "password": "Passw0rd!x1"}),
        "",
        json.dumps({"organization": "Taken", "login": "someone", "password": "Passw0rd!x1"}),
    ]
    (tmp_path / "in.jsonl").write_text("\n".join(lines) + "\n")
    result = cli(tmp_path, "k.sqlite", "org", "import", str(tmp_path / "in.jsonl"), "--json", check=False)
    assert result.returncode == 1, result.stderr
    summary = json.loads(result.stdout)
    assert (summary["rows"], summary["created"], summary["existing"]) == (11, 2, 1)
    failed = {f["line"]: f["error"] for f in summary["failed"]}
    assert sorted(failed) == [3, 4, 5, 6, 7, 8, 9, 10]
    assert "JSON" in failed[3] and "already in use" in failed[4] and "password" in failed[5]
    assert "bcrypt" in failed[6] and "not both" in failed[7] and "12 characters" in failed[8]
    assert "also on line 1" in failed[9] and "also on line 2" in failed[10]
    assert "line 4: Uses Taken Login: the login name TAKEN is already in use" in result.stderr
    names = sorted(o["organization"] for o in exported(tmp_path, "k.sqlite"))
    assert names == ["Good One", "Good Two", "Taken"], "a refused row leaves nothing behind"
    full = {o["organization"]: o for o in exported(tmp_path, "k.sqlite", "--with-keys")}
    assert full["Good One"]["key"] == "GoodKey00001" and full["Good One"]["passwordHash"] == bcrypt
    assert full["Good Two"]["passwordHash"].startswith("$2b$04$") and len(full["Good Two"]["key"]) == 12
    # The same file again changes nothing: every good row is already there.
    again = json.loads(cli(tmp_path, "k.sqlite", "org", "import", str(tmp_path / "in.jsonl"), "--json", check=False).stdout)
    assert (again["created"], again["existing"]) == (0, 3)


def test_csv_with_quoted_fields_and_a_header_in_any_order(tmp_path):
    csv = 'key,login,organization,password\nCsvKey000001,csv1,"Acme, Inc. ""EU""",Passw0rd!csv\n,csv2,Plain,Passw0rd!csv\n"unclosed,x,y,z\n'
    (tmp_path / "in.csv").write_text(csv)
    result = cli(tmp_path, "c.sqlite", "org", "import", str(tmp_path / "in.csv"), "--json", check=False)
    summary = json.loads(result.stdout)
    assert (summary["created"], [f["line"] for f in summary["failed"]]) == (2, [4])
    orgs = {o["organization"]: o for o in exported(tmp_path, "c.sqlite", "--with-keys")}
    assert orgs['Acme, Inc. "EU"']["key"] == "CsvKey000001" and orgs['Acme, Inc. "EU"']["login"] == "csv1"
    out = cli(tmp_path, "c.sqlite", "org", "export", "--format", "csv").stdout.splitlines()
    assert out[0] == "organization,login,keyEnabled" and '"Acme, Inc. ""EU""",csv1,true' in out


def test_an_interrupted_import_leaves_whole_batches_and_a_rerun_resumes(tmp_path):
    bcrypt = a_hash(tmp_path)
    total = 3000
    with open(tmp_path / "big.jsonl", "w") as f:
        for i in range(total):
            f.write(json.dumps({"organization": f"Bulk {i:05d}", "login": f"bulk{i}", "passwordHash": bcrypt}) + "\n")
    env = dict(os.environ, KEYGATE_MASTER_KEY_FILE=str(tmp_path / "b.sqlite.key"))
    subprocess.run([keygate_binary(), "migrate", "--database", str(tmp_path / "b.sqlite")], env=env, check=True,
                   capture_output=True, timeout=120)
    process = subprocess.Popen([keygate_binary(), "org", "import", str(tmp_path / "big.jsonl"), "--batch", "100",
                                "--database", str(tmp_path / "b.sqlite")], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True, env=env)
    # Kill it (no chance to clean up) once a few batches have committed.
    for line in process.stderr:
        if line.startswith("org import:") and int(line.split()[2]) >= 500:
            break
    process.send_signal(signal.SIGKILL)
    process.wait()
    partial = exported(tmp_path, "b.sqlite")
    assert 500 <= len(partial) < total, len(partial)
    assert len(partial) % 100 == 0, "each batch committed whole or not at all"
    assert all(o["login"] and o["keyEnabled"] for o in partial), "no organization without its admin and key"

    resumed = json.loads(cli(tmp_path, "b.sqlite", "org", "import", str(tmp_path / "big.jsonl"), "--json").stdout)
    assert (resumed["existing"], resumed["created"], resumed["failed"]) == (len(partial), total - len(partial), [])
    final = exported(tmp_path, "b.sqlite")
    assert sorted(o["organization"] for o in final) == [f"Bulk {i:05d}" for i in range(total)]
    listed = cli(tmp_path, "b.sqlite", "org", "list", "--json", "--limit", "7", "--after", "100")
    assert [o["id"] for o in json.loads(listed.stdout)] == list(range(101, 108))
    assert "more: keygate org list --after 107" in listed.stderr
    every = cli(tmp_path, "b.sqlite", "org", "list", "--json", "--all", "--limit", "1000")
    assert len(json.loads(every.stdout)) == total and "more:" not in every.stderr, "--all follows every page"


def test_export_with_keys_then_import_elsewhere_keeps_keys_and_passwords(tmp_path, keygate):
    """Moving an organization between servers with different master keys: the same key string and password work."""
    from test_sdk import ztw  # noqa: PLC0415 (the SDK client, as a migrating customer's scripts would use it)

    cli(tmp_path, "from.sqlite", "org", "create", "Mover", "--admin", "mover", "--password-stdin", stdin="Mover!passw0rd\n")
    rows = cli(tmp_path, "from.sqlite", "org", "export", "--with-keys").stdout
    assert "passwordHash" not in cli(tmp_path, "from.sqlite", "org", "export").stdout
    (tmp_path / "moved.jsonl").write_text(rows)
    moved = json.loads(rows)
    keygate.secrets.update({moved["key"], moved["passwordHash"], "Mover!passw0rd"})
    # Into the running server's database (another master key), while it serves.
    result = subprocess.run([keygate_binary(), "org", "import", str(tmp_path / "moved.jsonl"), "--database", keygate.database,
                             "--json"], capture_output=True, text=True, env=keygate.env, timeout=120)
    assert result.returncode == 0, result.stderr
    assert keygate.cli("key", "show", "--org", "Mover", "--reveal")["key"] == moved["key"]
    client = ztw({"username": "mover", "password": "Mover!passw0rd", "api_key": moved["key"]})
    keys, _, error = client.ztw.api_keys.list_api_keys()
    assert error is None and keys[0].key_value == moved["key"]
