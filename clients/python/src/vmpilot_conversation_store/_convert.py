"""Requests built from Python values and responses turned into them, shared by the sync and asyncio clients."""

from __future__ import annotations

import datetime
import numbers
from typing import Any, Dict, Iterable, List, Mapping, Optional, Union

from google.protobuf import timestamp_pb2

from .errors import InvalidCacheInfoError
from .stubs import admin_pb, pb
from .types import (AppendResult, BackupResult, ChangeEvent, Conversation, ConversationPage, ConversationRecord,
                    ConversationSummary, ForkResult, ImportFailure, ImportResult, Message, SaveResult, SearchPage,
                    SearchResult, ServerStatus)

MessageLike = Union[str, Message]
"""A message to send: its JSON text, or a Message (to give it an id)."""

_INT64_MIN = -(1 << 63)
_INT64_MAX = (1 << 63) - 1


def cache_counters(cache_info: Mapping[str, Any]) -> Dict[str, int]:
    """cache_info as the store keeps it (str -> int64), or InvalidCacheInfoError naming the offending entry."""
    if not isinstance(cache_info, Mapping):
        raise InvalidCacheInfoError(f"cache_info must be a dict of str to int, not {type(cache_info).__name__}")
    counters: Dict[str, int] = {}
    for key, value in cache_info.items():
        if not isinstance(key, str):
            raise InvalidCacheInfoError(f"cache_info key {key!r} is a {type(key).__name__}; keys must be str")
        counters[key] = _counter(key, value)
    return counters


def _counter(key: str, value: Any) -> int:
    where = f"cache_info[{key!r}] = {value!r}"
    if isinstance(value, bool) or not isinstance(value, (numbers.Integral, float)):
        raise InvalidCacheInfoError(f"{where} is a {type(value).__name__}; the store keeps cache info as "
                                    "64-bit integer counters")
    if isinstance(value, float):
        if not value.is_integer():
            raise InvalidCacheInfoError(f"{where} is not a whole number; the store keeps cache info as "
                                        "64-bit integer counters")
    value = int(value)
    if not _INT64_MIN <= value <= _INT64_MAX:
        raise InvalidCacheInfoError(f"{where} is outside the signed 64-bit range")
    return value


def messages_to_pb(messages: Iterable[MessageLike]) -> List[pb.Message]:
    if isinstance(messages, (str, bytes, Message)):
        raise TypeError("messages must be a list of messages, not a single one")
    result = []
    for n, message in enumerate(messages):
        if isinstance(message, str):
            result.append(pb.Message(json=message))
        elif isinstance(message, Message):
            result.append(pb.Message(id=message.id, json=message.json))
        else:
            raise TypeError(f"messages[{n}] is a {type(message).__name__}; send JSON text (str) or a Message")
    return result


def save_request(thread_id: str, messages: Iterable[MessageLike], cache_info: Optional[Mapping[str, Any]],
                 metadata: Optional[Mapping[str, str]], expected_version: Optional[int]) -> pb.SaveRequest:
    request = pb.SaveRequest(thread_id=thread_id, messages=messages_to_pb(messages),
                             cache_info=cache_counters(cache_info or {}), metadata=dict(metadata or {}))
    if expected_version is not None:
        request.expected_version = expected_version
    return request


def get_request(thread_id: str, start_position: int, max_messages: int) -> pb.GetRequest:
    return pb.GetRequest(thread_id=thread_id, start_position=start_position, max_messages=max_messages)


def append_request(thread_id: str, messages: Iterable[MessageLike], expected_version: Optional[int],
                   cache_info: Optional[Mapping[str, Any]] = None) -> pb.AppendRequest:
    request = pb.AppendRequest(thread_id=thread_id, messages=messages_to_pb(messages),
                               cache_info=cache_counters(cache_info or {}))
    if expected_version is not None:
        request.expected_version = expected_version
    return request


def update_cache_request(thread_id: str, cache_info: Mapping[str, Any],
                         expected_version: Optional[int]) -> pb.UpdateCacheRequest:
    request = pb.UpdateCacheRequest(thread_id=thread_id, cache_info=cache_counters(cache_info))
    if expected_version is not None:
        request.expected_version = expected_version
    return request


def clear_request(thread_id: str, expected_version: Optional[int]) -> pb.ClearRequest:
    request = pb.ClearRequest(thread_id=thread_id)
    if expected_version is not None:
        request.expected_version = expected_version
    return request


def list_request(page_size: int, page_token: str, metadata_filter: Optional[Mapping[str, str]]) -> pb.ListRequest:
    return pb.ListRequest(page_size=page_size, page_token=page_token, metadata_filter=dict(metadata_filter or {}))


def _time(timestamp: timestamp_pb2.Timestamp, present: bool) -> Optional[datetime.datetime]:
    return timestamp.ToDatetime(tzinfo=datetime.timezone.utc) if present else None


def message(m: pb.Message) -> Message:
    return Message(json=m.json, id=m.id, create_time=_time(m.create_time, m.HasField("create_time")),
                   position=m.position)


def conversation(c: pb.Conversation) -> Conversation:
    return Conversation(
        thread_id=c.thread_id, messages=tuple(message(m) for m in c.messages), cache_info=dict(c.cache_info),
        metadata=dict(c.metadata), version=c.version,
        create_time=_time(c.create_time, c.HasField("create_time")),
        update_time=_time(c.update_time, c.HasField("update_time")),
        message_count=c.message_count, history_bytes=c.history_bytes)


def summary(s: pb.ConversationSummary) -> ConversationSummary:
    return ConversationSummary(
        thread_id=s.thread_id, message_count=s.message_count, cache_info=dict(s.cache_info),
        metadata=dict(s.metadata), version=s.version,
        create_time=_time(s.create_time, s.HasField("create_time")),
        update_time=_time(s.update_time, s.HasField("update_time")), history_bytes=s.history_bytes)


def page(response: pb.ListResponse) -> ConversationPage:
    return ConversationPage(tuple(summary(s) for s in response.conversations), response.next_page_token)


def save_result(r: pb.SaveResponse) -> SaveResult:
    return SaveResult(r.version, r.message_count, r.created, r.messages_written)


def append_result(r: pb.AppendResponse) -> AppendResult:
    return AppendResult(r.version, r.message_count, r.appended_count, r.created)


def update_metadata_request(thread_id: str, set_: Optional[Mapping[str, str]], remove: Iterable[str],
                            cache_set: Optional[Mapping[str, Any]], cache_remove: Iterable[str],
                            expected_version: Optional[int]) -> pb.UpdateMetadataRequest:
    request = pb.UpdateMetadataRequest(thread_id=thread_id, set=dict(set_ or {}), remove=_strings("remove", remove),
                                       cache_set=cache_counters(cache_set or {}),
                                       cache_remove=_strings("cache_remove", cache_remove))
    if expected_version is not None:
        request.expected_version = expected_version
    return request


def _strings(name: str, keys: Iterable[str]) -> List[str]:
    if isinstance(keys, str):
        raise TypeError(f"{name} must be a list of keys, not a single str")
    return list(keys)


def fork_request(thread_id: str, new_thread_id: str, end_position: Optional[int],
                 expected_version: Optional[int]) -> pb.ForkRequest:
    request = pb.ForkRequest(thread_id=thread_id, new_thread_id=new_thread_id)
    if end_position is not None:
        request.end_position = end_position
    if expected_version is not None:
        request.expected_version = expected_version
    return request


def fork_result(r: pb.ForkResponse) -> ForkResult:
    return ForkResult(r.version, r.message_count, r.source_version)


def search_request(query: str, page_size: int, page_token: str,
                   metadata_filter: Optional[Mapping[str, str]]) -> pb.SearchRequest:
    return pb.SearchRequest(query=query, page_size=page_size, page_token=page_token,
                            metadata_filter=dict(metadata_filter or {}))


def search_page(r: pb.SearchResponse) -> SearchPage:
    return SearchPage(tuple(SearchResult(h.thread_id, h.position, h.snippet, h.score) for h in r.results),
                      r.next_page_token)


def watch_request(thread_id: str, start_version: int,
                  metadata_filter: Optional[Mapping[str, str]]) -> pb.WatchRequest:
    return pb.WatchRequest(thread_id=thread_id, start_version=start_version,
                           metadata_filter=dict(metadata_filter or {}))


_KIND_PREFIX = "CHANGE_KIND_"


def change_event(r: pb.WatchResponse) -> ChangeEvent:
    return ChangeEvent(
        thread_id=r.thread_id, version=r.version, kind=pb.ChangeKind.Name(r.kind).removeprefix(_KIND_PREFIX),
        first_position=r.first_position, message_count=r.message_count,
        messages=tuple(message(m) for m in r.messages),
        commit_time=_time(r.commit_time, r.HasField("commit_time")), left_filter=r.left_filter)


def _timestamp(value: Optional[datetime.datetime]) -> Optional[timestamp_pb2.Timestamp]:
    if value is None:
        return None
    if value.tzinfo is None:
        raise ValueError(f"{value!r} has no time zone; give an aware datetime (e.g. in UTC)")
    t = timestamp_pb2.Timestamp()
    t.FromDatetime(value.astimezone(datetime.timezone.utc))
    return t


def export_request(metadata_filter: Optional[Mapping[str, str]], updated_after: Optional[datetime.datetime],
                   updated_before: Optional[datetime.datetime], thread_ids: Iterable[str],
                   start_after_thread_id: str) -> admin_pb.ExportRequest:
    return admin_pb.ExportRequest(metadata_filter=dict(metadata_filter or {}),
                                  updated_after=_timestamp(updated_after), updated_before=_timestamp(updated_before),
                                  thread_ids=_strings("thread_ids", thread_ids),
                                  start_after_thread_id=start_after_thread_id)


def record(r: admin_pb.ConversationRecord) -> ConversationRecord:
    return ConversationRecord(
        thread_id=r.thread_id, messages=tuple(message(m) for m in r.messages), cache_info=dict(r.cache_info),
        metadata=dict(r.metadata), create_time=_time(r.create_time, r.HasField("create_time")),
        update_time=_time(r.update_time, r.HasField("update_time")))


_POLICIES = {"fail": admin_pb.EXISTING_CONVERSATION_POLICY_FAIL, "skip": admin_pb.EXISTING_CONVERSATION_POLICY_SKIP,
             "replace": admin_pb.EXISTING_CONVERSATION_POLICY_REPLACE}


def check_policy(on_existing: str) -> None:
    if on_existing not in _POLICIES:
        raise ValueError(f"on_existing={on_existing!r}: expected one of {', '.join(_POLICIES)}")


def import_request(r: ConversationRecord, on_existing: str) -> admin_pb.ImportRequest:
    check_policy(on_existing)
    messages = []
    for m in r.messages:
        one = pb.Message(id=m.id, json=m.json)
        if m.create_time is not None:
            one.create_time.CopyFrom(_timestamp(m.create_time))
        messages.append(one)
    return admin_pb.ImportRequest(
        conversation=admin_pb.ConversationRecord(
            thread_id=r.thread_id, messages=messages, cache_info=cache_counters(r.cache_info),
            metadata=dict(r.metadata), create_time=_timestamp(r.create_time), update_time=_timestamp(r.update_time)),
        on_existing=_POLICIES[on_existing])


def import_result(r: admin_pb.ImportResponse) -> ImportResult:
    return ImportResult(r.imported, r.replaced, r.skipped, r.failed,
                        tuple(ImportFailure(f.index, f.thread_id, f.reason, f.message) for f in r.failures))


def server_status(r: admin_pb.GetServerStatusResponse) -> ServerStatus:
    return ServerStatus(r.server_version, r.backend, r.schema_version, r.database_bytes, r.conversation_count,
                        r.message_count, r.durability, r.uptime.ToTimedelta(), r.database_location)


def backup_result(r: admin_pb.BackupResponse) -> BackupResult:
    return BackupResult(r.path, r.bytes, r.duration.ToTimedelta())
