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
