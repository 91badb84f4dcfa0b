"""VMPilot's four conversation-state functions, through the drop-in, against the real server.

VMPilot's own test cases (what its save, get, update and clear do: see the drop-in's docstring), plus what
VMPilot's agent sends them: a None or empty thread id, LangChain message objects, cache values that are not
ints; and that errors are raised, never swallowed.
"""

import logging
import math

import grpc
import pytest
from langchain_core.messages import AIMessage, HumanMessage, SystemMessage, ToolMessage, message_to_dict

from vmpilot_conversation_store import ConversationClient, ConversationStoreError, InvalidCacheInfoError
from vmpilot_conversation_store import vmpilot
from vmpilot_conversation_store.vmpilot import (
    clear_conversation_state,
    get_conversation_state,
    save_conversation_state,
    update_cache_info,
)

LOGGER = "vmpilot_conversation_store.vmpilot"


@pytest.fixture(autouse=True)
def drop_in(address):
    vmpilot.configure(address)
    yield
    vmpilot.configure(address)  # whatever a test configured, the next one starts from the test server


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

LANGCHAIN_DICTS = [
    {"type": "system", "data": {"content": "You are VMPilot.", "additional_kwargs": {}}},
    {"type": "human", "data": {"content": "Hello", "additional_kwargs": {}, "example": False}},
    {"type": "ai", "data": {"content": "", "additional_kwargs": {"tool_calls": [
        {"id": "call_2", "type": "function",
         "function": {"name": "edit_file", "arguments": "{\"path\": \"a.py\"}"}}]},
        "tool_calls": [{"name": "edit_file", "args": {"path": "a.py"}, "id": "call_2"}]}},
    {"type": "tool", "data": {"content": "done", "tool_call_id": "call_2"}},
]

LANGCHAIN_OBJECTS = [
    SystemMessage("You are VMPilot.", additional_kwargs={"cache_control": {"type": "ephemeral"}}),
    HumanMessage("Fix the bug in a.py"),
    AIMessage("", tool_calls=[{"name": "edit_file", "args": {"path": "a.py", "line": 3}, "id": "call_3"}],
              usage_metadata={"input_tokens": 10, "output_tokens": 5, "total_tokens": 15}),
    ToolMessage("edited", tool_call_id="call_3"),
    AIMessage([{"type": "text", "text": "Done ✅"}], response_metadata={"model_name": "claude"}),
]


# --- VMPilot's own cases ------------------------------------------------------------------------------------

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
    with caplog.at_level(logging.WARNING, logger=LOGGER):
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
    assert get_conversation_state(thread_id) == ([], {})


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
    save_conversation_state(thread_id, LANGCHAIN_DICTS, {"input_tokens": 7})
    assert get_conversation_state(thread_id) == (LANGCHAIN_DICTS, {"input_tokens": 7})


def test_growing_history_each_turn(thread_id):
    history = []
    for turn in range(5):
        history.append({"role": "user", "content": f"turn {turn}"})
        history.append({"role": "assistant", "content": f"answer {turn}"})
        save_conversation_state(thread_id, history, {"input_tokens": turn})
    assert get_conversation_state(thread_id) == (history, {"input_tokens": 4})


# --- what VMPilot's agent sends -----------------------------------------------------------------------------

@pytest.mark.parametrize("no_thread", [None, ""])
def test_no_thread_id_answers_as_vmpilot_does_without_calling_the_server(no_thread, caplog):
    vmpilot.configure("127.0.0.1:1")  # nothing listens there: any call would raise UNAVAILABLE
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert get_conversation_state(no_thread) == ([], {})
        save_conversation_state(no_thread, [{"role": "user", "content": "a"}], {"input_tokens": 1})
        update_cache_info(no_thread, {"input_tokens": 2})
        clear_conversation_state(no_thread)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 3 and all(repr(no_thread) in w for w in warnings)
    assert get_conversation_state(no_thread) == ([], {})


def test_langchain_message_objects_come_back_as_equal_objects(client, thread_id):
    save_conversation_state(thread_id, LANGCHAIN_OBJECTS, {"input_tokens": 10})
    messages, cache_info = get_conversation_state(thread_id)
    assert messages == LANGCHAIN_OBJECTS
    assert [type(m) for m in messages] == [type(m) for m in LANGCHAIN_OBJECTS]
    assert messages[2].tool_calls[0]["args"] == {"path": "a.py", "line": 3}
    assert cache_info == {"input_tokens": 10}

    # Stored as VMPilot's first persistence did: messages_to_dict's JSON, readable by any client.
    import json

    stored = client.get(thread_id)
    assert [json.loads(m.json) for m in stored.messages] == [message_to_dict(m) for m in LANGCHAIN_OBJECTS]
    assert stored.metadata[vmpilot.MESSAGE_FORMAT_KEY] == "langchain"

    # The next save decides: dicts now, so dicts come back.
    save_conversation_state(thread_id, OPENAI_MESSAGES)
    assert get_conversation_state(thread_id)[0] == OPENAI_MESSAGES


def test_a_list_mixing_dicts_and_objects_is_refused_and_nothing_is_written(thread_id):
    with pytest.raises(TypeError, match="mixes"):
        save_conversation_state(thread_id, [HumanMessage("hi"), {"role": "assistant", "content": "hello"}])
    assert get_conversation_state(thread_id) == ([], {})


def test_messages_the_store_cannot_hold_are_refused(thread_id):
    with pytest.raises(TypeError, match=r"messages\[1\] is a str"):
        save_conversation_state(thread_id, [{"role": "user", "content": "a"}, "just text"])
    with pytest.raises(TypeError, match="must be a list"):
        save_conversation_state(thread_id, {"role": "user", "content": "a"})
    with pytest.raises(ValueError):  # NaN is not JSON
        save_conversation_state(thread_id, [{"role": "user", "score": math.nan}])
    assert get_conversation_state(thread_id) == ([], {})


def test_whole_float_cache_values_are_stored_as_ints(thread_id):
    save_conversation_state(thread_id, [{"role": "user", "content": "a"}], {"input_tokens": 10.0})
    update_cache_info(thread_id, {"output_tokens": 20.0, "input_tokens": 11})
    _, cache_info = get_conversation_state(thread_id)
    assert cache_info == {"output_tokens": 20, "input_tokens": 11}
    assert all(type(v) is int for v in cache_info.values())


@pytest.mark.parametrize("bad", [{"input_tokens": "10"}, {"input_tokens": 1.5}, {"input_tokens": None},
                                 {"cache_hit": True}, {"input_tokens": 2 ** 64}])
def test_cache_values_the_store_cannot_keep_raise_the_documented_error_before_writing(thread_id, bad):
    save_conversation_state(thread_id, [{"role": "user", "content": "a"}], {"input_tokens": 1})
    with pytest.raises(InvalidCacheInfoError):
        save_conversation_state(thread_id, [{"role": "user", "content": "b"}], bad)
    with pytest.raises(InvalidCacheInfoError):
        update_cache_info(thread_id, bad)
    assert get_conversation_state(thread_id) == ([{"role": "user", "content": "a"}], {"input_tokens": 1})


# --- errors are raised, never swallowed ---------------------------------------------------------------------

@pytest.mark.parametrize("bad_thread", ["bad\x00id", "x" * 257])
def test_errors_are_raised_with_the_servers_details(bad_thread):
    calls = [lambda: save_conversation_state(bad_thread, [{"role": "user", "content": "a"}]),
             lambda: get_conversation_state(bad_thread),
             lambda: update_cache_info(bad_thread, {"input_tokens": 1}),
             lambda: clear_conversation_state(bad_thread)]
    for call in calls:
        with pytest.raises(ConversationStoreError) as raised:
            call()
        assert isinstance(raised.value, grpc.RpcError)
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in raised.value.field_violations] == ["thread_id"]


def test_an_oversized_message_raises_instead_of_starting_over(thread_id):
    save_conversation_state(thread_id, [{"role": "user", "content": "kept"}])
    with pytest.raises(ConversationStoreError) as raised:
        save_conversation_state(thread_id, [{"role": "user", "content": "x" * (9 << 20)}])  # limit: 8 MiB
    assert raised.value.code() in (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
    assert get_conversation_state(thread_id)[0] == [{"role": "user", "content": "kept"}]


def test_unreachable_server_raises():
    vmpilot.configure("127.0.0.1:1", max_attempts=1)  # nothing listens on port 1
    with pytest.raises(ConversationStoreError) as raised:
        get_conversation_state("any-thread")
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE


def test_address_from_environment(address, clean_environment, thread_id):
    clean_environment.setenv("VMPILOT_STORE_ADDRESS", address)
    clean_environment.setattr(vmpilot, "_client", None)  # as on first use, unconfigured
    save_conversation_state(thread_id, [{"role": "user", "content": "env"}])
    assert get_conversation_state(thread_id)[0] == [{"role": "user", "content": "env"}]

    clean_environment.setenv("VMPILOT_STORE_ADDRESS", "127.0.0.1:1")
    vmpilot.configure()  # back to the environment, which now names an address nobody listens on
    with pytest.raises(ConversationStoreError):
        get_conversation_state(thread_id)


def test_a_bad_tls_setting_in_the_environment_is_named(clean_environment):
    clean_environment.setenv("VMPILOT_STORE_TLS", "yes please")
    with pytest.raises(ValueError, match="VMPILOT_STORE_TLS"):
        vmpilot.configure()


def test_configure_with_a_client(address, thread_id):
    with ConversationClient(address) as own:
        vmpilot.configure(client=own)
        save_conversation_state(thread_id, [{"role": "user", "content": "own client"}])
        assert own.get(thread_id).messages[0].json == '{"role": "user", "content": "own client"}'
