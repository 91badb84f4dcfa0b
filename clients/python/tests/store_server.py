"""The real conversation server, started as a separate process on a port it picks itself (--port 0).

The port is read from the server's start-up line, so no test guesses a free port. The server is the jar given
with --server-jar (what the Maven build made), else scripts/run-server, which builds it when it is missing.
"""

from __future__ import annotations

import os
import re
import subprocess
import threading
from pathlib import Path
from typing import List, Mapping, Optional, Sequence

REPOSITORY = Path(__file__).resolve().parents[3]
_LISTENING = re.compile(r"listening on (\S+):(\d+) ")
_START_TIMEOUT_SECONDS = 120  # a cold JVM on a busy 2-core machine
_JVM_OPTIONS = ["-Xmx256m", "-XX:+UseSerialGC"]  # a small test server; several run beside the build


class StoreServer:
    def __init__(self, command: List[str], env: Mapping[str, str]) -> None:
        self._lines: List[str] = []
        self._listening = threading.Event()
        self.port = -1
        self._process = subprocess.Popen(command, env=dict(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.STDOUT, text=True, encoding="utf-8", errors="replace")
        self._pump = threading.Thread(target=self._read_output, name="store-server-output", daemon=True)
        self._pump.start()
        if not self._listening.wait(_START_TIMEOUT_SECONDS) or self.port < 0:
            self._process.kill()
            self._process.wait()
            raise RuntimeError(f"the server did not start ({' '.join(command)}); its output:\n{self.output()}")

    @classmethod
    def start(cls, args: Sequence[str], *, server_jar: Optional[str], java: str,
              env: Optional[Mapping[str, str]] = None, port: int = 0) -> "StoreServer":
        """Starts `conversation-server --port PORT ARGS` and waits until it listens.

        port is 0 (the server picks a free one) except to start a server again on the port a stopped one had
        picked, for a client that reconnects to the same address.
        """
        environment = {**os.environ, **(env or {})}
        if server_jar:
            command = [java, *_JVM_OPTIONS, "-jar", server_jar]
        else:
            environment.setdefault("JAVA_OPTS", " ".join(_JVM_OPTIONS))
            command = [str(REPOSITORY / "scripts" / "run-server")]
        return cls([*command, "--port", str(port), *args], environment)

    @property
    def target(self) -> str:
        return f"127.0.0.1:{self.port}"

    def output(self) -> str:
        return "".join(self._lines)

    def stop(self) -> int:
        """SIGTERM, then waits for the graceful shutdown; returns the exit code."""
        if self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(60)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._pump.join(10)
        return self._process.returncode

    def _read_output(self) -> None:
        assert self._process.stdout is not None
        for line in self._process.stdout:
            self._lines.append(line)
            match = _LISTENING.search(line)
            if self.port < 0 and match:
                self.port = int(match.group(2))
                self._listening.set()
        self._listening.set()  # the process ended: whoever waits for it to listen stops waiting
