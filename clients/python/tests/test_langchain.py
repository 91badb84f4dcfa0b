"""ConversationStoreChatMessageHistory against the real server: every LangChain message type round-trips.

The langchain-tests package (1.1.9) has standard tests for chat models, embeddings, retrievers, tools, stores,
caches, indexers, sandboxes and vector stores, but none for chat message histories; the contract of
BaseChatMessageHistory (messages / add_messages / clear and their async forms, add_user_message,
add_ai_message) is checked here instead, with a LangChain runnable using the history as LangChain does.
"""

import asyncio
import json
import re
import warnings

import grpc
import pytest
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.language_models.fake_chat_models import FakeListChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    ChatMessage,
    ChatMessageChunk,
    FunctionMessage,
    FunctionMessageChunk,
    HumanMessage,
    HumanMessageChunk,
    RemoveMessage,
    SystemMessage,
    SystemMessageChunk,
    ToolMessage,
    ToolMessageChunk,
    message_to_dict,
)

from vmpilot_conversation_store import ConversationClient, ConversationStoreError
from vmpilot_conversation_store import vmpilot
from vmpilot_conversation_store.langchain import ConversationStoreChatMessageHistory

EVERY_MESSAGE_TYPE = [
    SystemMessage("You are VMPilot.", additional_kwargs={"cache_control": {"type": "ephemeral"}}, id="sys-1"),
    HumanMessage([{"type": "text", "text": "What is in this image? café 🚀 \u2028"},
                  {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}],
                 name="dror"),
    AIMessage(
        "",
        tool_calls=[{"name": "shell", "args": {"command": "ls -la", "timeout": 10}, "id": "call_1"},
                    {"name": "read_file", "args": {"path": "a.py", "lines": [1, 2.5, None]}, "id": "call_2"}],
        invalid_tool_calls=[{"name": "broken", "args": "{not json", "id": "call_3", "error": "bad JSON"}],
        usage_metadata={"input_tokens": 100, "output_tokens": 20, "total_tokens": 120,
                        "input_token_details": {"cache_read": 80, "cache_creation": 20}},
        response_metadata={"model_name": "claude-sonnet", "stop_reason": "tool_use"},
        id="ai-1"),
    ToolMessage("main.py\nREADME.md\n", tool_call_id="call_1", name="shell", artifact={"exit_code": 0},
                status="success"),
    ToolMessage("no such file", tool_call_id="call_2", status="error"),
    AIMessage("There are two files.", additional_kwargs={"big": 9007199254740993, "float": 10.0}),
    FunctionMessage("42", name="calculator"),
    ChatMessage("A critic's view.", role="critic"),
    RemoveMessage(id="ai-1"),
    AIMessageChunk("partial ", tool_call_chunks=[
        {"name": "shell", "args": '{"command": "pwd"}', "id": "call_4", "index": 0}]),
    HumanMessageChunk("human chunk"),
    SystemMessageChunk("system chunk"),
    ToolMessageChunk("tool chunk", tool_call_id="call_4"),
    FunctionMessageChunk("function chunk", name="fn"),
    ChatMessageChunk("chat chunk", role="critic"),
]


@pytest.fixture
def history(address, thread_id):
    h = ConversationStoreChatMessageHistory(thread_id, address=address)
    yield h
    h.close()


def test_is_a_langchain_chat_message_history(history):
    assert isinstance(history, BaseChatMessageHistory)


def test_every_message_type_round_trips_equal_tool_calls_included(history):
    history.add_messages(EVERY_MESSAGE_TYPE)
    got = history.messages
    assert got == EVERY_MESSAGE_TYPE
    assert [type(m) for m in got] == [type(m) for m in EVERY_MESSAGE_TYPE]
    assert got[2].tool_calls == EVERY_MESSAGE_TYPE[2].tool_calls
    assert got[2].tool_calls[1]["args"] == {"path": "a.py", "lines": [1, 2.5, None]}
    assert got[2].invalid_tool_calls[0]["args"] == "{not json"
    assert got[2].usage_metadata["input_token_details"] == {"cache_read": 80, "cache_creation": 20}
    assert got[3].artifact == {"exit_code": 0} and got[4].status == "error"
    assert got[5].additional_kwargs["big"] == 9007199254740993
    assert got[9].tool_call_chunks == EVERY_MESSAGE_TYPE[9].tool_call_chunks


def test_each_message_is_stored_as_langchains_own_dict_form(client, history, thread_id):
    history.add_messages(EVERY_MESSAGE_TYPE[:4])
    stored = client.get(thread_id).messages
    assert [json.loads(m.json) for m in stored] == [message_to_dict(m) for m in EVERY_MESSAGE_TYPE[:4]]
    # Each one got its own id, so a retried Append could not store it twice.
    assert all(re.fullmatch(r"[0-9a-f]{32}", m.id) for m in stored)
    assert len({m.id for m in stored}) == 4


def test_add_messages_appends_in_order_and_the_helpers_add_one_message(history):
    history.add_messages([HumanMessage("one"), AIMessage("two")])
    history.add_user_message("three")
    history.add_ai_message(AIMessage("four"))
    history.add_message(SystemMessage("five"))
    history.add_messages([])
    assert [(m.type, m.content) for m in history.messages] == [
        ("human", "one"), ("ai", "two"), ("human", "three"), ("ai", "four"), ("system", "five")]


def test_an_unknown_thread_has_no_messages_and_clear_deletes_the_conversation(client, history, thread_id):
    assert history.messages == []
    history.add_messages([HumanMessage("hi")])
    history.clear()
    assert history.messages == []
    assert client.get(thread_id) is None
    history.clear()  # clearing again is no error


def test_two_histories_of_one_thread_see_each_others_messages(address, history, thread_id):
    other = ConversationStoreChatMessageHistory(thread_id, address=address)
    try:
        history.add_messages([HumanMessage("from one")])
        other.add_messages([AIMessage("from the other")])
        assert [m.content for m in history.messages] == ["from one", "from the other"]
    finally:
        other.close()


@pytest.mark.asyncio
async def test_the_async_methods_round_trip_every_type_over_grpc_aio(history):
    await history.aadd_messages(EVERY_MESSAGE_TYPE)
    assert await history.aget_messages() == EVERY_MESSAGE_TYPE
    assert history.messages == EVERY_MESSAGE_TYPE  # sync and async see one conversation
    await history.aclear()
    assert await history.aget_messages() == []


def test_the_async_methods_work_from_one_event_loop_after_another(history):
    asyncio.run(history.aadd_messages([HumanMessage("first loop")]))
    asyncio.run(history.aadd_messages([AIMessage("second loop")]))
    assert [m.content for m in asyncio.run(history.aget_messages())] == ["first loop", "second loop"]


@pytest.mark.asyncio
async def test_with_a_given_client_the_async_methods_run_it_in_an_executor(address, thread_id):
    with ConversationClient(address) as client:
        history = ConversationStoreChatMessageHistory(thread_id, client=client)
        await history.aadd_messages([HumanMessage("via executor")])
        assert [m.content for m in await history.aget_messages()] == ["via executor"]
        await history.aclear()
        assert client.get(thread_id) is None


@pytest.mark.asyncio
async def test_given_clients_are_used_and_left_open(address, thread_id):
    from vmpilot_conversation_store import AsyncConversationClient

    with ConversationClient(address) as client:
        async with AsyncConversationClient(address) as async_client:
            history = ConversationStoreChatMessageHistory(thread_id, client=client, async_client=async_client)
            await history.aadd_messages([HumanMessage("async")])
            history.add_messages([AIMessage("sync")])
            assert [m.content for m in await history.aget_messages()] == ["async", "sync"]
            history.close()
            assert (await async_client.get(thread_id)).message_count == 2  # still open
            assert client.get(thread_id).message_count == 2


def test_the_server_comes_from_the_environment_by_default(address, clean_environment, thread_id):
    clean_environment.setenv("VMPILOT_STORE_ADDRESS", address)
    history = ConversationStoreChatMessageHistory(thread_id)
    history.add_messages([HumanMessage("env")])
    assert history.messages == [HumanMessage("env")]
    history.close()


def test_errors_are_raised_with_the_servers_details(address):
    history = ConversationStoreChatMessageHistory("bad\x00thread", address=address)
    for call in (lambda: history.messages, lambda: history.add_messages([HumanMessage("x")]), history.clear,
                 lambda: asyncio.run(history.aget_messages())):
        with pytest.raises(ConversationStoreError) as raised:
            call()
        assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in raised.value.field_violations] == ["thread_id"]
    history.close()

    unreachable = ConversationStoreChatMessageHistory("t", address="127.0.0.1:1", max_attempts=1)
    with pytest.raises(ConversationStoreError) as raised:
        unreachable.messages
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    unreachable.close()


def test_what_json_cannot_hold_is_refused_before_anything_is_stored(history):
    with pytest.raises(TypeError):
        history.add_messages([HumanMessage("ok"), ToolMessage("x", tool_call_id="c", artifact=object())])
    with pytest.raises(TypeError, match="not a LangChain message"):
        history.add_messages([{"role": "user", "content": "a dict"}])
    assert history.messages == []


def test_arguments_are_checked():
    with pytest.raises(ValueError, match="thread_id"):
        ConversationStoreChatMessageHistory("")
    with ConversationClient("localhost:1") as client:
        with pytest.raises(ValueError, match="not both"):
            ConversationStoreChatMessageHistory("t", client=client, timeout=3)


def test_a_thread_the_vmpilot_drop_in_saved_as_objects_reads_here(address, history, thread_id):
    vmpilot.configure(address)
    vmpilot.save_conversation_state(thread_id, [SystemMessage("sys"), HumanMessage("hi")])
    assert history.messages == [SystemMessage("sys"), HumanMessage("hi")]


def test_a_langchain_runnable_keeps_its_conversation_in_the_store(address, history, thread_id):
    from langchain_core.runnables.history import RunnableWithMessageHistory

    model = FakeListChatModel(responses=["Hello Dror!", "Your name is Dror."])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # deprecated in 1.x, still how many apps use it
        chat = RunnableWithMessageHistory(
            model, lambda session_id: ConversationStoreChatMessageHistory(session_id, address=address))
    config = {"configurable": {"session_id": thread_id}}
    assert chat.invoke([HumanMessage("Hi, I am Dror")], config=config).content == "Hello Dror!"
    assert chat.invoke([HumanMessage("What is my name?")], config=config).content == "Your name is Dror."
    assert [(m.type, m.content) for m in history.messages] == [
        ("human", "Hi, I am Dror"), ("ai", "Hello Dror!"),
        ("human", "What is my name?"), ("ai", "Your name is Dror.")]
