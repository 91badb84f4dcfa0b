"""AsyncConversationClient against the real server: the same calls and errors as the sync client, awaited."""

import asyncio

import grpc
import pytest

from vmpilot_conversation_store import (
    AsyncConversationClient,
    ConversationNotFoundError,
    ConversationStoreError,
    Message,
    VersionConflictError,
)

pytestmark = pytest.mark.asyncio

USER = '{"role":"user","content":"h\u00e9llo"}'
ASSISTANT = '{"role":"assistant","content":"hi","n":9007199254740993}'


async def test_every_call(address, thread_id):
    async with AsyncConversationClient(address) as store:
        saved = await store.save(thread_id, [USER], cache_info={"input_tokens": 3}, metadata={"k": "v"})
        assert saved.created
        appended = await store.append(thread_id, [Message(ASSISTANT, id="a1")], expected_version=saved.version)
        assert appended.message_count == 2
        assert (await store.append(thread_id, [Message(ASSISTANT, id="a1")])).appended_count == 0

        conversation = await store.get(thread_id)
        assert [m.json for m in conversation.messages] == [USER, ASSISTANT]
        assert conversation.cache_info == {"input_tokens": 3} and conversation.metadata == {"k": "v"}

        await store.update_cache(thread_id, {"output_tokens": 4})
        assert (await store.get(thread_id, max_messages=1)).cache_info == {"output_tokens": 4}

        turn = await store.append(thread_id, [Message(USER, id="u2")], cache_info={"input_tokens": 9})
        assert turn.appended_count == 1
        assert (await store.get(thread_id, max_messages=1)).cache_info == {"output_tokens": 4, "input_tokens": 9}

        listed = [s.thread_id async for s in store.list(metadata_filter={"k": "v"}, page_size=1)]
        assert thread_id in listed

        assert await store.clear(thread_id) is True
        assert await store.get(thread_id) is None
        assert await store.clear(thread_id) is False


async def test_errors_carry_the_servers_details(address, thread_id):
    async with AsyncConversationClient(address) as store:
        with pytest.raises(ConversationNotFoundError) as not_found:
            await store.update_cache(thread_id, {"a": 1})
        assert not_found.value.reason == "CONVERSATION_NOT_FOUND"

        saved = await store.save(thread_id, [USER])
        await store.save(thread_id, [USER, ASSISTANT])
        with pytest.raises(VersionConflictError) as conflict:
            await store.clear(thread_id, expected_version=saved.version)
        assert conflict.value.current_version > saved.version
        assert isinstance(conflict.value, grpc.RpcError)

        with pytest.raises(ConversationStoreError) as invalid:
            await store.append(thread_id, ["{not json"])
        assert invalid.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert [v.field for v in invalid.value.field_violations] == ["messages[0].json"]


async def test_concurrent_appends_with_ids_are_all_stored_once(address, thread_id):
    async with AsyncConversationClient(address) as store:
        messages = [Message(f'{{"n":{i}}}', id=f"m{i}") for i in range(20)]
        await asyncio.gather(*(store.append(thread_id, [m]) for m in messages))
        await asyncio.gather(*(store.append(thread_id, [m]) for m in messages[:5]))  # retries: no-ops
        conversation = await store.get(thread_id)
        assert sorted(m.id for m in conversation.messages) == sorted(m.id for m in messages)


async def test_an_unreachable_server_raises_unavailable():
    async with AsyncConversationClient("127.0.0.1:1", max_attempts=1) as store:
        with pytest.raises(ConversationStoreError) as raised:
            await store.get("t")
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
