"""Runs last (file order): after every other end-to-end test, the server log (written at trace level) holds
none of the keys, passwords or session ids that went through the server."""

import re


def test_server_log_holds_no_secret(keygate):
    log = keygate.log_path.read_text()
    assert len(log) > 0
    for secret in keygate.secrets:
        assert secret not in log, f"a secret ({secret[:2]}…) is in the server log"
    assert not re.search(r"JSESSIONID=[0-9a-f]{32}", log)
    assert "generated a new master key" in log
    assert "$2b$" not in log and "$2y$" not in log, "a bcrypt hash is in the server log"
    assert "v1:" not in log and not re.search(r"v2:[0-9a-f]{16}:", log), "a sealed key is in the server log"
