"""A `keygate serve` of its own over plain HTTP on a fresh SQLite database, for tests that need settings the shared
TLS server (conftest.py) does not have: the fuzzer's lifted lockout limits, a separate metrics port."""

import json
import os
import pathlib
import subprocess
import tempfile
import time

from conftest import keygate_binary


class PlainServer:
    def __init__(self, *args, **env):
        self.directory = pathlib.Path(tempfile.mkdtemp(prefix="keygate-plain-"))
        self.database = str(self.directory / "keygate.sqlite")
        self.env = dict(os.environ, **{"KEYGATE_SECURITY_BCRYPT_COST": "6", **env})
        self.log_path = self.directory / "server.log"
        self.process = subprocess.Popen(
            [keygate_binary(), "serve", "--port", "0", "--json", "--database", self.database, *args],
            stdout=subprocess.PIPE, stderr=open(self.log_path, "w"), text=True, env=self.env)
        deadline = time.time() + 60
        banner = None
        while time.time() < deadline and banner is None:
            line = self.process.stdout.readline()
            if not line:
                break
            if line.startswith("{"):
                banner = json.loads(line)
        assert banner is not None, self.log_path.read_text()
        self.banner = banner
        self.port = int(banner["port"])
        self.base = f"http://127.0.0.1:{self.port}"

    def cli(self, *args, stdin=None):
        result = subprocess.run([keygate_binary(), *args, "--database", self.database, "--json"], input=stdin,
                                capture_output=True, text=True, env=self.env, timeout=120)
        assert result.returncode == 0, result.stderr
        return json.loads(result.stdout)

    def close(self):
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
