"""Fixtures: the real server process (a temp SQLite file, a free port it picks), clients of it, fresh thread ids.

    pytest clients/python/tests [--server-jar server/target/conversation-server.jar] [--java /path/to/java]

The package under test is the installed one (scripts/install-tools puts it into .tools/venv), never the
source tree: test_package.py checks that.
"""

from __future__ import annotations

import os
import shutil
import uuid
from typing import Callable, Iterator, List, Optional, Sequence

import pytest

from store_server import StoreServer
from vmpilot_conversation_store import ConversationClient


StartServer = Callable[..., StoreServer]


@pytest.fixture(scope="session")
def start_server(request: pytest.FixtureRequest) -> Iterator[StartServer]:
    """start_server(*args, env=None, port=0): a server with these flags, stopped at the end of the session."""
    jar: Optional[str] = request.config.getoption("--server-jar")
    java = request.config.getoption("--java") or shutil.which("java") or "java"
    started: List[StoreServer] = []

    def start(*args: str, env: Optional[dict] = None, port: int = 0) -> StoreServer:
        server = StoreServer.start(args, server_jar=jar, java=java, env=env, port=port)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def server(start_server: StartServer, tmp_path_factory: pytest.TempPathFactory) -> StoreServer:
    """The shared server: SQLite in a temp file. Tests use their own thread ids, so they never meet."""
    # Backups may go anywhere under the session's temp directory, where each test's tmp_path is.
    return start_server("--database-path", str(tmp_path_factory.mktemp("store") / "store.db"),
                        "--backup-directory", str(tmp_path_factory.getbasetemp()))


@pytest.fixture(scope="session")
def address(server: StoreServer) -> str:
    return server.target


@pytest.fixture
def client(address: str) -> Iterator[ConversationClient]:
    with ConversationClient(address) as c:
        yield c


@pytest.fixture
def thread_id(address: str) -> Iterator[str]:
    """A thread of this test alone, deleted afterwards."""
    thread = f"py-test-{uuid.uuid4()}"
    yield thread
    with ConversationClient(address) as c:
        c.clear(thread)


@pytest.fixture
def new_thread_ids(address: str) -> Iterator[Callable[[int], Sequence[str]]]:
    """new_thread_ids(n): n fresh thread ids sharing one random prefix, all deleted afterwards."""
    made: List[str] = []

    def make(n: int) -> Sequence[str]:
        prefix = f"py-test-{uuid.uuid4()}"
        ids = [f"{prefix}-{i}" for i in range(n)]
        made.extend(ids)
        return ids

    yield make
    with ConversationClient(address) as c:
        for thread in made:
            c.clear(thread)


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """No VMPILOT_STORE_* variable from the caller's environment leaks into a test."""
    for name in list(os.environ):
        if name.startswith("VMPILOT_STORE_"):
            monkeypatch.delenv(name)
    return monkeypatch
