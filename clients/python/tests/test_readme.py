"""The README's Python section works as written: each of its Python snippets runs against the real server."""

import contextlib
import io
import re

import pytest

from store_server import REPOSITORY
from vmpilot_conversation_store import ConversationClient


def _python_section() -> str:
    readme = (REPOSITORY / "README.md").read_text(encoding="utf-8")
    match = re.search(r"^### Python\n(.*?)^##", readme, re.MULTILINE | re.DOTALL)
    assert match, "the README has no '### Python' section"
    return match.group(1)


SNIPPETS = re.findall(r"^```python\n(.*?)^```", _python_section(), re.MULTILINE | re.DOTALL)


def test_the_section_installs_from_the_repository_and_shows_each_use():
    section = _python_section()
    assert 'pip install "./clients/python[langchain]"' in section
    assert len(SNIPPETS) == 3  # the client, the VMPilot drop-in, LangChain


@pytest.mark.parametrize("snippet", SNIPPETS, ids=["client", "vmpilot-drop-in", "langchain"])
def test_each_snippet_runs(snippet, address):
    code = snippet.replace("localhost:50051", address)
    printed = io.StringIO()
    try:
        with contextlib.redirect_stdout(printed):
            exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    finally:
        with ConversationClient(address) as store:
            for thread in ("demo-py", "thread-1"):
                store.clear(thread)
    if "print(" in code:
        assert "VERSION_MISMATCH" in printed.getvalue()
