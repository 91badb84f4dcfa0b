"""ConversationClient against the real server: every RPC, its results, and the errors with the server's details."""

import datetime

import grpc
import pytest

from vmpilot_conversation_store import (
    ConversationClient,
    ConversationNotFoundError,
    ConversationStoreError,
    InvalidCacheInfoError,
    Message,
    VersionConflictError,
)
from vmpilot_conversation_store.stubs import pb

# JSON text the store must keep byte for byte: escapes, odd spacing, key order, a big integer.
SYSTEM = '{"role":"system","content":"You are VMPilot. Caf\\u00e9 \\"quoted\\""}'
USER = ' { "role" : "user",  "content": [{"type":"text","text":"h\u00e9llo \U0001F680"}] }'
ASSISTANT = '{"z":1,"role":"assistant","content":"Hi!","n":9007199254740993,"f":10.0}'


def test_save_then_get_returns_every_message_verbatim(client, thread_id):
    saved = client.save(thread_id, [SYSTEM, USER], cache_info={"input_tokens": 10},
                        metadata={"project_root": "/src/app"})
    assert saved.created and saved.message_count == 2 and saved.messages_written == 2 and saved.version > 0

    conversation = client.get(thread_id)
    assert [m.json for m in conversation.messages] == [SYSTEM, USER]
    assert [m.position for m in conversation.messages] == [0, 1]
    assert conversation.thread_id == thread_id
    assert conversation.cache_info == {"input_tokens": 10}
    assert conversation.metadata == {"project_root": "/src/app"}
    assert conversation.version == saved.version
    assert conversation.message_count == 2
    assert conversation.history_bytes == len(SYSTEM.encode()) + len(USER.encode())
    now = datetime.datetime.now(datetime.timezone.utc)
    assert conversation.create_time.tzinfo is not None
    assert abs(now - conversation.update_time) < datetime.timedelta(minutes=5)
    assert conversation.messages[0].create_time is not None


def test_save_replaces_the_history_and_merges_cache_info_and_metadata(client, thread_id):
    client.save(thread_id, [SYSTEM, USER], cache_info={"input_tokens": 10, "output_tokens": 1},
                metadata={"a": "1"})
    again = client.save(thread_id, [SYSTEM, USER, ASSISTANT], cache_info={"output_tokens": 20},
                        metadata={"b": "2"})
    assert not again.created and again.message_count == 3
    assert again.messages_written == 1  # the stored history was a prefix: only the tail is written
    conversation = client.get(thread_id)
    assert [m.json for m in conversation.messages] == [SYSTEM, USER, ASSISTANT]
    assert conversation.cache_info == {"input_tokens": 10, "output_tokens": 20}
    assert conversation.metadata == {"a": "1", "b": "2"}

    client.save(thread_id, [USER])
    assert [m.json for m in client.get(thread_id).messages] == [USER]


def test_a_turn_is_one_append_carrying_the_cache_counters(client, thread_id):
    client.save(thread_id, [SYSTEM], cache_info={"cache_read": 7, "input_tokens": 1})
    turn = [Message(USER, id="t1-user"), Message(ASSISTANT, id="t1-assistant")]
    done = client.append(thread_id, turn, cache_info={"input_tokens": 1200, "output_tokens": 85})
    assert done.appended_count == 2 and done.message_count == 3
    conversation = client.get(thread_id)
    assert conversation.version == done.version  # messages and counters: one write, one version
    assert conversation.cache_info == {"cache_read": 7, "input_tokens": 1200, "output_tokens": 85}
    assert [m.json for m in conversation.messages] == [SYSTEM, USER, ASSISTANT]

    retried = client.append(thread_id, turn, cache_info={"input_tokens": 1200, "output_tokens": 85})
    assert retried.appended_count == 0 and retried.version == done.version
    assert client.get(thread_id) == conversation  # the retry changed nothing

    with pytest.raises(InvalidCacheInfoError):
        client.append(thread_id, [USER], cache_info={"input_tokens": "10"})
    with pytest.raises(ConversationStoreError) as raised:
        client.append(thread_id, [USER], cache_info={"": 1})
    assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [v.field for v in raised.value.field_violations] == ["cache_info"]
    assert client.get(thread_id) == conversation  # nothing of a refused turn is stored


def test_get_of_an_unknown_thread_is_none(client, thread_id):
    assert client.get(thread_id) is None


def test_get_a_window_of_the_newest_messages(client, thread_id):
    texts = [f'{{"n":{i}}}' for i in range(6)]
    client.save(thread_id, texts)
    newest = client.get(thread_id, max_messages=2)
    assert [m.json for m in newest.messages] == texts[4:]
    assert [m.position for m in newest.messages] == [4, 5]
    assert newest.message_count == 6
    assert [m.json for m in client.get(thread_id, start_position=3).messages] == texts[3:]


def test_append_adds_at_the_end_and_skips_ids_already_stored(client, thread_id):
    first = client.append(thread_id, [Message(SYSTEM, id="m1"), USER])
    assert first.created and first.appended_count == 2 and first.message_count == 2
    retried = client.append(thread_id, [Message(SYSTEM, id="m1")])
    assert retried.appended_count == 0 and retried.version == first.version
    more = client.append(thread_id, [Message(ASSISTANT, id="m3")])
    assert not more.created and more.message_count == 3 and more.version > first.version
    messages = client.get(thread_id).messages
    assert [(m.id, m.json) for m in messages] == [("m1", SYSTEM), ("", USER), ("m3", ASSISTANT)]


def test_update_cache_replaces_it(client, thread_id):
    client.save(thread_id, [USER], cache_info={"input_tokens": 10, "output_tokens": 20})
    version = client.update_cache(thread_id, {"cache_read_input_tokens": 5})
    conversation = client.get(thread_id)
    assert conversation.cache_info == {"cache_read_input_tokens": 5}
    assert conversation.version == version


def test_update_cache_of_an_unknown_thread_raises_not_found_with_its_reason(client, thread_id):
    with pytest.raises(ConversationNotFoundError) as raised:
        client.update_cache(thread_id, {"input_tokens": 1})
    error = raised.value
    assert isinstance(error, grpc.RpcError)
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.reason == "CONVERSATION_NOT_FOUND"
    assert error.domain == "conversation.vmpilot.io"
    assert isinstance(error.__cause__, grpc.RpcError)  # the original grpc error is kept


def test_clear_says_whether_there_was_a_conversation(client, thread_id):
    client.save(thread_id, [USER])
    assert client.clear(thread_id) is True
    assert client.get(thread_id) is None
    assert client.clear(thread_id) is False


def test_a_stale_expected_version_raises_a_version_conflict_with_the_current_version(client, thread_id):
    saved = client.save(thread_id, [USER])
    appended = client.append(thread_id, [ASSISTANT], expected_version=saved.version)
    with pytest.raises(VersionConflictError) as raised:
        client.save(thread_id, [SYSTEM], expected_version=saved.version)
    error = raised.value
    assert error.code() == grpc.StatusCode.ABORTED
    assert error.reason == "VERSION_MISMATCH"
    assert error.current_version == appended.version
    assert error.metadata["current_version"] == str(appended.version)
    assert "VERSION_MISMATCH" in str(error)
    for stale in (lambda: client.update_cache(thread_id, {"a": 1}, expected_version=saved.version),
                  lambda: client.clear(thread_id, expected_version=saved.version)):
        with pytest.raises(VersionConflictError):
            stale()
    assert [m.json for m in client.get(thread_id).messages] == [USER, ASSISTANT]  # nothing was changed


def test_expected_version_zero_creates_only_a_new_conversation(client, thread_id):
    assert client.save(thread_id, [USER], expected_version=0).created
    with pytest.raises(VersionConflictError) as raised:
        client.save(thread_id, [SYSTEM], expected_version=0)
    assert raised.value.current_version > 0


def test_invalid_arguments_raise_with_the_servers_field_violations(client, thread_id):
    with pytest.raises(ConversationStoreError) as raised:
        client.save("", [USER])
    error = raised.value
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert error.reason == "INVALID_ARGUMENT"
    assert [v.field for v in error.field_violations] == ["thread_id"]
    assert "thread_id" in str(error)

    with pytest.raises(ConversationStoreError) as raised:
        client.append(thread_id, [USER, "not json", "[1, 2]"])
    assert [v.field for v in raised.value.field_violations] == ["messages[1].json", "messages[2].json"]
    assert all(v.description for v in raised.value.field_violations)
    assert client.get(thread_id) is None  # nothing of a refused request is stored

    with pytest.raises(ConversationStoreError) as raised:
        client.get("bad\x00id")
    assert raised.value.field_violations[0].field == "thread_id"


def test_cache_info_the_store_cannot_keep_is_refused_before_anything_is_sent(client, thread_id):
    for bad in ({"input_tokens": "10"}, {"input_tokens": 1.5}, {"input_tokens": None}, {"flag": True},
                {"input_tokens": 1 << 63}, {7: 1}, {"nested": {"a": 1}}):
        with pytest.raises(InvalidCacheInfoError) as raised:
            client.save(thread_id, [USER], cache_info=bad)
        assert isinstance(raised.value, TypeError) and isinstance(raised.value, ValueError)
        assert repr(next(iter(bad))) in str(raised.value)
    assert client.get(thread_id) is None

    client.save(thread_id, [USER], cache_info={"input_tokens": 10.0, "big": (1 << 63) - 1, "neg": -(1 << 63)})
    assert client.get(thread_id).cache_info == {"input_tokens": 10, "big": (1 << 63) - 1, "neg": -(1 << 63)}


def test_messages_must_be_json_text_or_message_values(client, thread_id):
    with pytest.raises(TypeError, match=r"messages\[0\] is a dict"):
        client.save(thread_id, [{"role": "user"}])
    with pytest.raises(TypeError, match="not a single one"):
        client.append(thread_id, USER)
    assert client.get(thread_id) is None


def test_list_pages_through_every_conversation_and_filters_by_metadata(client, new_thread_ids):
    threads = new_thread_ids(5)
    run = threads[0]
    for thread in threads:
        client.save(thread, [USER], metadata={"run": run})
    listed = list(client.list(metadata_filter={"run": run}, page_size=2))
    assert sorted(s.thread_id for s in listed) == sorted(threads)
    assert [s.thread_id for s in listed] == list(reversed(threads))  # most recently updated first
    assert all(s.message_count == 1 and s.metadata == {"run": run} for s in listed)

    first = client.list_page(page_size=2, metadata_filter={"run": run})
    assert len(first.conversations) == 2 and first.next_page_token
    second = client.list_page(page_size=2, page_token=first.next_page_token, metadata_filter={"run": run})
    assert {s.thread_id for s in second.conversations}.isdisjoint({s.thread_id for s in first.conversations})

    with pytest.raises(ConversationStoreError) as raised:
        client.list_page(page_size=-1)
    assert raised.value.field_violations[0].field == "page_size"


def test_an_unreachable_server_raises_unavailable():
    with ConversationClient("127.0.0.1:1", max_attempts=2, timeout=20) as unreachable:  # nothing listens on 1
        with pytest.raises(ConversationStoreError) as raised:
            unreachable.get("any-thread")
    assert raised.value.code() == grpc.StatusCode.UNAVAILABLE
    assert raised.value.reason == ""


def test_a_deadline_that_passes_raises_deadline_exceeded(address, thread_id):
    with ConversationClient(address, timeout=0.000001, max_attempts=1) as hurried:
        with pytest.raises(ConversationStoreError) as raised:
            hurried.save(thread_id, [USER])
    assert raised.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED


def test_the_generated_stub_and_a_callers_channel_work_too(address, client, thread_id):
    client.stub.Save(pb.SaveRequest(thread_id=thread_id, messages=[pb.Message(json=USER)]), timeout=10)
    with grpc.insecure_channel(address) as channel:
        borrowed = ConversationClient.over(channel, timeout=10)
        assert [m.json for m in borrowed.get(thread_id).messages] == [USER]
        borrowed.close()  # does not close the caller's channel
        assert borrowed.get(thread_id) is not None


def test_settings_are_checked_when_the_client_is_made(tmp_path):
    with pytest.raises(ValueError, match="bearer token is empty"):
        ConversationClient("localhost:1", bearer_token=" ")
    with pytest.raises(ValueError, match="go together"):
        ConversationClient("localhost:1", client_certificate="client.pem")
    with pytest.raises(ValueError, match="max_attempts"):
        ConversationClient("localhost:1", max_attempts=0)
    with pytest.raises(FileNotFoundError):
        ConversationClient("localhost:1", ca_certificates=tmp_path / "missing.pem")


def test_the_token_is_never_shown():
    from vmpilot_conversation_store._channel import ConnectionSettings

    settings = ConnectionSettings.of("localhost:1", bearer_token="secret-token-123")
    assert "secret-token-123" not in repr(settings)
