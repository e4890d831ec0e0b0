"""The operator CLI against the database the running server uses."""

import subprocess

from conftest import keygate_binary


def run(keygate, *args, stdin=None):
    return subprocess.run([keygate_binary(), *args, "--database", keygate.database], input=stdin, capture_output=True,
                          text=True, env=keygate.env, timeout=120)


def test_a_wrong_master_key_is_refused_before_anything_runs(keygate, tmp_path):
    wrong = tmp_path / "wrong.key"
    wrong.write_text("11" * 32 + "\n")
    result = run(keygate, "org", "list", "--master-key-file", str(wrong))
    assert result.returncode != 0
    assert "master key does not open" in result.stderr


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
