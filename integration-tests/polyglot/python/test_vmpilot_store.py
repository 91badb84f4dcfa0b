"""VMPilot's own test cases for its conversation-state functions, run against a real server
through the drop-in module. The server address comes from $VMPILOT_CONVERSATION_STORE
(run through test.sh ADDRESS)."""

import logging
import os
import uuid

import grpc
import pytest

import vmpilot_store
from vmpilot_store import (
    clear_conversation_state,
    get_conversation_state,
    save_conversation_state,
    update_cache_info,
)


@pytest.fixture(scope="session", autouse=True)
def server_address():
    address = os.environ.get("VMPILOT_CONVERSATION_STORE")
    if not address:
        pytest.exit("set VMPILOT_CONVERSATION_STORE to the server's host:port", returncode=2)
    vmpilot_store.configure(address)
    return address


@pytest.fixture
def thread_id():
    thread = f"vmpilot-test-{uuid.uuid4()}"
    yield thread
    clear_conversation_state(thread)


OPENAI_MESSAGES = [
    {"role": "system", "content": [
        {"type": "text", "text": "You are VMPilot.", "cache_control": {"type": "ephemeral"}}]},
    {"role": "user", "content": "List the files, café ☕ 🚀"},
    {"role": "assistant", "content": None, "tool_calls": [
        {"id": "call_1", "type": "function",
         "function": {"name": "shell", "arguments": "{\"command\": \"ls -la\", \"timeout\": 10}"}}]},
    {"role": "tool", "content": "main.py\nREADME.md\n", "tool_call_id": "call_1"},
    {"role": "assistant", "content": "There are two files.", "tokens": 9007199254740993,
     "score": 10.5},
]

LANGCHAIN_MESSAGES = [
    {"type": "system", "data": {"content": "You are VMPilot.", "additional_kwargs": {}}},
    {"type": "human", "data": {"content": "Hello", "additional_kwargs": {}, "example": False}},
    {"type": "ai", "data": {"content": "", "additional_kwargs": {"tool_calls": [
        {"id": "call_2", "type": "function",
         "function": {"name": "edit_file", "arguments": "{\"path\": \"a.py\"}"}}]},
        "tool_calls": [{"name": "edit_file", "args": {"path": "a.py"}, "id": "call_2"}]}},
    {"type": "tool", "data": {"content": "done", "tool_call_id": "call_2"}},
]


def test_save_and_get_roundtrip(thread_id):
    messages = [{"role": "user", "content": "Hello"}, {"role": "assistant", "content": "Hi"}]
    cache_info = {"input_tokens": 10, "output_tokens": 20}
    save_conversation_state(thread_id, messages, cache_info)
    assert get_conversation_state(thread_id) == (messages, cache_info)


def test_save_replaces_history(thread_id):
    save_conversation_state(thread_id, [{"role": "user", "content": "one"}])
    save_conversation_state(thread_id, [{"role": "user", "content": "two"}])
    assert get_conversation_state(thread_id)[0] == [{"role": "user", "content": "two"}]


def test_save_merges_cache_info(thread_id):
    save_conversation_state(thread_id, [{"role": "user", "content": "a"}],
                            {"input_tokens": 10, "output_tokens": 20})
    save_conversation_state(thread_id, [{"role": "user", "content": "a"}],
                            {"output_tokens": 30, "cache_read_input_tokens": 5})
    _, cache_info = get_conversation_state(thread_id)
    assert cache_info == {"input_tokens": 10, "output_tokens": 30, "cache_read_input_tokens": 5}


def test_save_with_none_cache_info_keeps_stored(thread_id):
    save_conversation_state(thread_id, [{"role": "user", "content": "a"}], {"input_tokens": 10})
    save_conversation_state(thread_id, [{"role": "user", "content": "b"}], None)
    save_conversation_state(thread_id, [{"role": "user", "content": "c"}])
    assert get_conversation_state(thread_id) == (
        [{"role": "user", "content": "c"}], {"input_tokens": 10})


def test_update_cache_info_replaces(thread_id):
    messages = [{"role": "user", "content": "a"}]
    save_conversation_state(thread_id, messages, {"input_tokens": 10, "output_tokens": 20})
    update_cache_info(thread_id, {"cache_creation_input_tokens": 100})
    assert get_conversation_state(thread_id) == (messages, {"cache_creation_input_tokens": 100})


def test_update_cache_info_unknown_thread_only_warns(thread_id, caplog):
    with caplog.at_level(logging.WARNING, logger="vmpilot_store"):
        update_cache_info(thread_id, {"input_tokens": 1})
    assert thread_id in caplog.text
    assert get_conversation_state(thread_id) == ([], {})  # nothing created


def test_get_unknown_thread(thread_id):
    assert get_conversation_state(thread_id) == ([], {})


def test_clear(thread_id):
    save_conversation_state(thread_id, [{"role": "user", "content": "a"}], {"input_tokens": 1})
    clear_conversation_state(thread_id)
    assert get_conversation_state(thread_id) == ([], {})


def test_clear_unknown_thread(thread_id):
    clear_conversation_state(thread_id)
    clear_conversation_state(thread_id)


def test_new_thread_after_clear_starts_empty(thread_id):
    save_conversation_state(thread_id, [{"role": "user", "content": "a"}], {"input_tokens": 1})
    clear_conversation_state(thread_id)
    save_conversation_state(thread_id, [{"role": "user", "content": "b"}])
    assert get_conversation_state(thread_id) == ([{"role": "user", "content": "b"}], {})


def test_openai_messages_with_tool_calls(thread_id):
    cache_info = {"cache_creation_input_tokens": 1500, "cache_read_input_tokens": 3000}
    save_conversation_state(thread_id, OPENAI_MESSAGES, cache_info)
    messages, got_cache = get_conversation_state(thread_id)
    assert messages == OPENAI_MESSAGES and got_cache == cache_info
    assert messages[2]["tool_calls"][0]["function"]["arguments"] == \
        "{\"command\": \"ls -la\", \"timeout\": 10}"
    assert messages[4]["tokens"] == 9007199254740993  # not rounded through a double


def test_langchain_dict_messages(thread_id):
    save_conversation_state(thread_id, LANGCHAIN_MESSAGES, {"input_tokens": 7})
    assert get_conversation_state(thread_id) == (LANGCHAIN_MESSAGES, {"input_tokens": 7})


def test_growing_history_each_turn(thread_id):
    history = []
    for turn in range(5):
        history.append({"role": "user", "content": f"turn {turn}"})
        history.append({"role": "assistant", "content": f"answer {turn}"})
        save_conversation_state(thread_id, history, {"input_tokens": turn})
    assert get_conversation_state(thread_id) == (history, {"input_tokens": 4})


def test_errors_are_raised_not_swallowed():
    with pytest.raises(grpc.RpcError) as err:
        save_conversation_state("", [{"role": "user", "content": "a"}])  # empty thread id
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(grpc.RpcError) as err:
        get_conversation_state("bad\x00id")  # control character in the thread id
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_unreachable_server_raises(server_address):
    vmpilot_store.configure("127.0.0.1:1")  # nothing listens on port 1
    try:
        with pytest.raises(grpc.RpcError) as err:
            get_conversation_state("any-thread")
        assert err.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        vmpilot_store.configure(server_address)


def test_address_from_environment(server_address, monkeypatch, thread_id):
    monkeypatch.setenv("VMPILOT_CONVERSATION_STORE", server_address)
    monkeypatch.setattr(vmpilot_store, "_stub", None)  # as on first use, unconfigured
    save_conversation_state(thread_id, [{"role": "user", "content": "env"}])
    assert get_conversation_state(thread_id)[0] == [{"role": "user", "content": "env"}]
