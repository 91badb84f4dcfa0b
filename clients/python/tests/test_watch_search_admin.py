"""Watch, Search, UpdateMetadata, Fork and the admin service through ConversationClient, against real servers."""

import datetime
import os
import queue
import threading

import grpc
import pytest

from vmpilot_conversation_store import (
    AsyncConversationClient,
    ConversationClient,
    ConversationNotFoundError,
    ConversationRecord,
    ConversationStoreError,
    Message,
)

NO_RETRY = {"max_attempts": 1, "timeout": 20}
WAIT_SECONDS = 60  # for an event that must come; only a failing test waits this long


class Events:
    """Iterates a Watch on a thread of its own, so that a test waits for an event with a timeout, not forever."""

    def __init__(self, watch):
        self.watch = watch
        self._queue: "queue.Queue" = queue.Queue()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        try:
            for event in self.watch:
                self._queue.put(event)
            self._queue.put(StopIteration())
        except Exception as error:  # handed to the test, which raises it
            self._queue.put(error)

    def next(self):
        item = self._queue.get(timeout=WAIT_SECONDS)
        if isinstance(item, BaseException):
            raise item
        return item

    def close(self):
        self.watch.close()
        self._thread.join(WAIT_SECONDS)
        assert not self._thread.is_alive(), "the watch did not end on close()"


def test_update_metadata_sets_and_removes_keys_without_the_messages(client, thread_id):
    saved = client.save(thread_id, ['{"n":1}'], metadata={"title": "t", "draft": "yes"}, cache_info={"in": 3})
    version = client.update_metadata(thread_id, set={"title": "final"}, remove=["draft"], cache_set={"out": 4},
                                     expected_version=saved.version)
    assert version > saved.version
    conversation = client.get(thread_id)
    assert conversation.metadata == {"title": "final"}
    assert conversation.cache_info == {"in": 3, "out": 4}
    assert [m.json for m in conversation.messages] == ['{"n":1}']
    with pytest.raises(ConversationStoreError) as stale:
        client.update_metadata(thread_id, set={"x": "y"}, expected_version=saved.version)
    assert stale.value.reason == "VERSION_MISMATCH"
    with pytest.raises(ConversationStoreError) as both:
        client.update_metadata(thread_id, set={"k": "v"}, remove=["k"])
    assert both.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    with pytest.raises(ConversationNotFoundError):
        client.update_metadata(thread_id + "-missing", set={"k": "v"})
    with pytest.raises(TypeError):
        client.update_metadata(thread_id, remove="draft")


def test_fork_copies_the_messages_before_the_end_position_and_the_metadata(client, new_thread_ids):
    source, copy = new_thread_ids(2)
    saved = client.save(source, ['{"n":1}', Message('{"n":2}', id="two"), '{"n":3}'], metadata={"team": "red"})
    forked = client.fork(source, copy, end_position=2)
    assert forked.message_count == 2
    assert forked.source_version == saved.version
    conversation = client.get(copy)
    assert [m.json for m in conversation.messages] == ['{"n":1}', '{"n":2}']
    assert conversation.messages[1].id == "two"
    assert conversation.metadata == {"team": "red", "forked_from": source,
                                     "forked_from_version": str(saved.version)}
    with pytest.raises(ConversationStoreError) as taken:
        client.fork(source, copy)
    assert (taken.value.code(), taken.value.reason) == (grpc.StatusCode.ALREADY_EXISTS, "CONVERSATION_EXISTS")
    with pytest.raises(ConversationStoreError) as beyond:
        client.fork(source, copy + "-x", end_position=4)
    assert beyond.value.reason == "POSITION_OUT_OF_RANGE"
    assert beyond.value.metadata["message_count"] == "3"


def test_search_pages_through_the_hits_and_filters_by_metadata(client, new_thread_ids):
    a, b, c = new_thread_ids(3)
    word = "zyxquux" + a[-12:].replace("-", "")  # a word no other test writes
    client.save(a, ['{"role":"user","content":"please fix %s now"}' % word, '{"content":"unrelated"}'],
                metadata={"project": "p1"})
    client.save(b, ['{"tool":{"arguments":"{\\"query\\": \\"%s\\"}"}}' % word], metadata={"project": "p2"})
    client.save(c, ['{"content":"nothing to see"}'], metadata={"project": "p1"})
    hits = list(client.search(word, page_size=1))
    assert sorted((h.thread_id, h.position) for h in hits) == sorted([(a, 0), (b, 0)])
    assert all(word in h.snippet for h in hits)
    first = client.search_page(word, page_size=1)
    assert len(first.results) == 1 and first.next_page_token
    assert [(h.thread_id, h.position) for h in client.search(word, metadata_filter={"project": "p1"})] == [(a, 0)]
    with pytest.raises(ConversationStoreError) as empty:
        client.search_page("   ")
    assert empty.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_watch_streams_the_changes_and_resumes_after_the_last_version(client, thread_id):
    first = client.append(thread_id, ['{"n":1}'])
    with client.watch(thread_id, start_version=first.version - 1) as watch:
        events = Events(watch)
        created = events.next()
        assert (created.thread_id, created.version, created.kind) == (thread_id, first.version, "APPENDED")
        assert [m.json for m in created.messages] == ['{"n":1}']
        second = client.append(thread_id, ['{"n":2}', '{"n":3}'])
        live = events.next()
        assert (live.version, live.first_position, live.message_count) == (second.version, 1, 3)
        assert [m.position for m in live.messages] == [1, 2]
        assert live.commit_time is not None
        client.clear(thread_id)
        cleared = events.next()
        assert cleared.kind == "CLEARED"
        assert watch.last_version == cleared.version
        events.close()
    # From the last version seen: only what came after it.
    again = client.append(thread_id, ['{"n":4}'])
    with client.watch(thread_id, start_version=live.version) as resumed:
        events = Events(resumed)
        assert [events.next().version, events.next().version] == [cleared.version, again.version]
        events.close()


def test_a_watch_with_a_metadata_filter_sees_a_conversation_join_and_leave(client, new_thread_ids):
    a, b = new_thread_ids(2)
    project = "p-" + a[-12:]
    start = client.save(a, ['{"n":1}'], metadata={"project": project}).version - 1
    with client.watch(start_version=start, metadata_filter={"project": project}) as watch:
        events = Events(watch)
        assert events.next().thread_id == a
        client.append(b, ['{"not":"matching"}'])
        moved = client.update_metadata(a, set={"project": "elsewhere"})
        left = events.next()
        assert (left.thread_id, left.version, left.kind, left.left_filter) == (a, moved, "METADATA_UPDATED", True)
        client.append(a, ['{"not":"sent"}'])
        joined = client.update_metadata(b, set={"project": project})
        joins = events.next()
        assert (joins.thread_id, joins.version, joins.left_filter) == (b, joined, False)
        events.close()


def test_watch_errors_are_raised_with_their_reason(client):
    with pytest.raises(ConversationStoreError) as bad:
        next(client.watch(start_version=-1))
    assert bad.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert any(v.field == "start_version" for v in bad.value.field_violations)


def test_a_watch_reconnects_from_its_last_version_when_the_server_restarts(start_server, tmp_path):
    database = str(tmp_path / "restarted.db")
    server = start_server("--database-path", database)
    port = server.port
    with ConversationClient(server.target, **NO_RETRY) as client:
        before = client.append("r", ['{"n":1}']).version
        watch = client.watch("r", max_reconnects=None)
        events = Events(watch)
        assert events.next().version == before
        # A graceful stop ends the stream with UNAVAILABLE (SERVER_SHUTTING_DOWN): the iterator comes back by itself.
        assert server.stop() == 0
        restarted = start_server("--database-path", database, port=port)
        with ConversationClient(restarted.target) as writer:  # a fresh channel, not one in connect backoff
            after = writer.append("r", ['{"n":2}']).version
        event = events.next()
        assert (event.version, [m.json for m in event.messages]) == (after, ['{"n":2}'])
        assert watch.reconnects >= 1
        events.close()


def test_the_async_client_watches_searches_forks_and_edits_metadata(address, new_thread_ids):
    import asyncio

    source, copy = new_thread_ids(2)

    async def run():
        async with AsyncConversationClient(address) as store:
            saved = await store.save(source, ['{"content":"asynchronous flamingo"}'], metadata={"k": "v"})
            watch = store.watch(source, start_version=saved.version - 1)
            assert (await asyncio.wait_for(watch.__anext__(), WAIT_SECONDS)).version == saved.version
            edited = await store.update_metadata(source, remove=["k"])
            assert (await asyncio.wait_for(watch.__anext__(), WAIT_SECONDS)).version == edited
            watch.close()
            assert (await store.fork(source, copy)).message_count == 1
            hits = [h async for h in store.search("asynchronous flamingo")]
            assert {h.thread_id for h in hits} >= {source, copy}

    asyncio.run(run())


# ---- ConversationAdminService ----

def test_export_then_import_into_another_server_round_trips_the_conversations(client, start_server,
                                                                              new_thread_ids):
    a, b = new_thread_ids(2)
    client.save(a, ['{"n":1}', Message('{"n":2}', id="m2")], metadata={"team": "blue"}, cache_info={"in": 7})
    client.append(b, ['{"n":3}'])
    records = list(client.export(thread_ids=[a, b]))
    assert [r.thread_id for r in records] == sorted([a, b])
    exported = {r.thread_id: r for r in records}
    assert exported[a].metadata == {"team": "blue"} and exported[a].cache_info == {"in": 7}
    assert [(m.id, m.json) for m in exported[a].messages] == [("", '{"n":1}'), ("m2", '{"n":2}')]
    assert list(client.export(thread_ids=[a, b], metadata_filter={"team": "blue"})) == [exported[a]]
    assert list(client.export(thread_ids=[a, b], start_after_thread_id=min(a, b))) == [exported[max(a, b)]]

    other = start_server("--database-enabled", "false")
    with ConversationClient(other.target, **NO_RETRY) as target:
        result = target.import_conversations(records)
        assert (result.imported, result.failed) == (2, 0)
        copy = target.get(a)
        assert [m.json for m in copy.messages] == ['{"n":1}', '{"n":2}']
        assert copy.metadata == {"team": "blue"}
        assert copy.create_time == exported[a].create_time
        # The same records again change nothing; a different one fails, unless replaced.
        assert target.import_conversations(records).skipped == 2
        changed = ConversationRecord(a, (Message('{"n":9}'),), {}, {}, exported[a].create_time,
                                     exported[a].update_time)
        failed = target.import_conversations([changed])
        assert failed.failed == 1 and failed.failures[0].reason == "CONVERSATION_EXISTS"
        assert target.import_conversations([changed], on_existing="replace").replaced == 1
        assert [m.json for m in target.get(a).messages] == ['{"n":9}']
        with pytest.raises(ValueError):
            target.import_conversations([changed], on_existing="overwrite")


def test_export_refuses_a_time_without_a_zone(client):
    with pytest.raises(ValueError):
        list(client.export(updated_after=datetime.datetime(2026, 1, 1)))


def test_server_status_and_backup(client, thread_id, tmp_path, tmp_path_factory):
    client.append(thread_id, ['{"n":1}'])
    status = client.server_status()
    assert status.backend == "sqlite"
    assert status.conversation_count >= 1 and status.message_count >= 1
    assert status.database_bytes > 0 and status.schema_version
    assert status.uptime > datetime.timedelta(0)
    target = str(tmp_path / "backup.db")
    backup = client.backup(target)
    assert backup.path == target and backup.bytes > 0
    assert (tmp_path / "backup.db").stat().st_size == backup.bytes
    with pytest.raises(ConversationStoreError) as exists:
        client.backup(target)
    assert exists.value.reason == "BACKUP_TARGET_EXISTS"
    outside = str(tmp_path_factory.getbasetemp().parent / "outside-the-backup-directory.db")
    with pytest.raises(ConversationStoreError) as refused:
        client.backup(outside)
    assert refused.value.reason == "BACKUP_OUTSIDE_DIRECTORY"
    assert not os.path.exists(outside)
