"""What the client sends and returns, as plain immutable values (the protobuf messages stay inside the client)."""

from __future__ import annotations

import dataclasses
import datetime
from typing import Mapping, Optional, Tuple


@dataclasses.dataclass(frozen=True)
class Message:
    """One message: `json` is exactly one JSON object, kept and returned byte for byte.

    `id` (optional, at most 256 characters, unique within the conversation) makes appending the message again a
    no-op, so a retried append never stores it twice. `create_time` and `position` are set by the server on
    returned messages and ignored when sending.
    """

    json: str
    id: str = ""
    create_time: Optional[datetime.datetime] = None
    position: Optional[int] = None


@dataclasses.dataclass(frozen=True)
class Conversation:
    """A conversation as Get returns it: the messages asked for, plus counters, metadata and version."""

    thread_id: str
    messages: Tuple[Message, ...]
    cache_info: Mapping[str, int]
    metadata: Mapping[str, str]
    version: int
    create_time: Optional[datetime.datetime]
    update_time: Optional[datetime.datetime]
    message_count: int  # the whole history's, whatever window `messages` is
    history_bytes: int  # UTF-8 size of all stored message texts


@dataclasses.dataclass(frozen=True)
class ConversationSummary:
    """A conversation without its messages, as List returns it."""

    thread_id: str
    message_count: int
    cache_info: Mapping[str, int]
    metadata: Mapping[str, str]
    version: int
    create_time: Optional[datetime.datetime]
    update_time: Optional[datetime.datetime]
    history_bytes: int


@dataclasses.dataclass(frozen=True)
class SaveResult:
    version: int
    message_count: int
    created: bool
    messages_written: int  # fewer than message_count when the stored history was a prefix of the new one


@dataclasses.dataclass(frozen=True)
class AppendResult:
    version: int  # unchanged if every message was a duplicate of a stored id
    message_count: int
    appended_count: int
    created: bool


@dataclasses.dataclass(frozen=True)
class ConversationPage:
    """One page of List; pass `next_page_token` to get the next one (empty on the last page)."""

    conversations: Tuple[ConversationSummary, ...]
    next_page_token: str


@dataclasses.dataclass(frozen=True)
class ForkResult:
    version: int  # the new conversation's
    message_count: int  # how many messages were copied
    source_version: int  # the source's version the copy was taken from


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """One message that matched a search: read it with get(thread_id, start_position=position)."""

    thread_id: str
    position: int
    snippet: str  # a few words around the first match, "…" where text was left out
    score: float  # higher is better; comparable only within one response


@dataclasses.dataclass(frozen=True)
class SearchPage:
    """One page of Search, best match first; pass `next_page_token` for the next one (empty on the last page)."""

    results: Tuple[SearchResult, ...]
    next_page_token: str


@dataclasses.dataclass(frozen=True)
class ChangeEvent:
    """One change of a conversation, as Watch streams it.

    `kind` is the ChangeKind name without its prefix: "APPENDED", "REPLACED" (the history from first_position on
    is now `messages`), "CACHE_UPDATED", "METADATA_UPDATED", "CLEARED" or "REWRITTEN" (a Fork's copy or an
    Import: read it with get). `left_filter` is true on the change by which a conversation stopped matching the
    watch's metadata_filter: the last one of it until it matches again.
    """

    thread_id: str
    version: int  # pass the last one seen as start_version to resume
    kind: str
    first_position: int
    message_count: int
    messages: Tuple[Message, ...]
    commit_time: Optional[datetime.datetime]
    left_filter: bool = False


@dataclasses.dataclass(frozen=True)
class ConversationRecord:
    """A whole conversation as Export writes it and Import reads it (its messages keep their create_time)."""

    thread_id: str
    messages: Tuple[Message, ...]
    cache_info: Mapping[str, int]
    metadata: Mapping[str, str]
    create_time: Optional[datetime.datetime]
    update_time: Optional[datetime.datetime]


@dataclasses.dataclass(frozen=True)
class ImportFailure:
    index: int  # 0-based, in the order the records were sent
    thread_id: str
    reason: str  # an ErrorInfo reason, e.g. CONVERSATION_EXISTS
    message: str


@dataclasses.dataclass(frozen=True)
class ImportResult:
    imported: int  # stored as new conversations
    replaced: int
    skipped: int  # stored identically already, or (on_existing="skip") stored and different
    failed: int
    failures: Tuple[ImportFailure, ...]


@dataclasses.dataclass(frozen=True)
class ServerStatus:
    server_version: str
    backend: str  # memory, sqlite or postgres
    schema_version: str
    database_bytes: int
    conversation_count: int  # the caller's tenant's
    message_count: int
    durability: str
    uptime: datetime.timedelta
    database_location: str


@dataclasses.dataclass(frozen=True)
class BackupResult:
    path: str  # the file written, on the server's machine
    bytes: int
    duration: datetime.timedelta
