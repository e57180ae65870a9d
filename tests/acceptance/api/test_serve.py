"""`importer serve --dev-token`: the sign-in URL works, and the development secret is loudly flagged."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import urllib.request

from tests.processes import free_port, stop


def test_dev_token_url_signs_in_to_an_existing_wheel(db_url):
    """The printed URL carries a token the server accepts and that user's wheel; the dev secret is warned about."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "IMPORTER_JWT_SECRET"}
    env.update(DATABASE_URL=db_url, IMPORTER_LOG_FORMAT="text")
    proc = subprocess.Popen([sys.executable, "-m", "importer.cli", "serve", "--port", str(port), "--dev-token"],
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    seen = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any("#token=" in line for line in seen):
            line = proc.stdout.readline()
            if not line and proc.poll() is not None:
                break
            seen.append(line)
        output = "".join(seen)
        match = re.search(r"http://127\.0\.0\.1:(\d+)/#token=([\w.-]+)&wheel=([0-9a-f-]{36})", output)
        assert match, output
        assert int(match.group(1)) == port
        assert "DEVELOPMENT secret" in output
        token, wheel = match.group(2), match.group(3)
        request = urllib.request.Request(f"http://127.0.0.1:{port}/api/wheels/{wheel}",
                                         headers={"Authorization": f"Bearer {token}"})
        with urllib.request.urlopen(request, timeout=10) as resp:
            assert resp.status == 200
            assert json.load(resp)["id"] == wheel
    finally:
        stop(proc)
        proc.stdout.close()  # else the pipe is left to the garbage collector (ResourceWarning)
