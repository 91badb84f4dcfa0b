"""VMPilot drop-in: VMPilot's four conversation-state functions, backed by the conversation store.

Swap one import in VMPilot:

    # from vmpilot.unified_memory import (
    from vmpilot_conversation_store.vmpilot import (
        save_conversation_state, get_conversation_state, update_cache_info, clear_conversation_state)

The server is $VMPILOT_STORE_ADDRESS (default localhost:50051); $VMPILOT_STORE_TLS=true, $VMPILOT_STORE_CA_CERT
(a PEM file, implies TLS) and $VMPILOT_STORE_TOKEN (bearer token) as the server needs them. Or call
configure(...) with ConversationClient's options (or configure(client=...)) before the first call.

Same arguments, results and behaviour as VMPilot's own functions:

* save_conversation_state(thread_id, messages, cache_info=None) replaces the history; cache_info None keeps the
  stored cache info, a dict is merged over it (stored keys it lacks are kept).
* get_conversation_state(thread_id) -> (messages, cache_info); an unknown thread gives ([], {}).
* update_cache_info(thread_id, cache_info) replaces the cache info; an unknown thread only logs a warning.
* clear_conversation_state(thread_id) deletes the thread; an unknown thread is no error.
* A thread_id of None (or "", which the store cannot hold) is what VMPilot's agent passes when it has no chat:
  get answers ([], {}), the other three log a warning and do nothing, as VMPilot does for None.

Messages: dicts (OpenAI-style or LangChain dicts, anything JSON-serializable) are stored as their JSON text and
come back as equal dicts. LangChain message objects are stored through messages_to_dict, as VMPilot's first
persistence did, and come back as objects (messages_from_dict); the conversation's metadata
"vmpilot.message_format" ("json" or "langchain") records which, so one save holds one kind (a list mixing
dicts and objects raises TypeError, as both of VMPilot's versions would have failed on it).

cache_info: token counters, str -> int (a whole float such as 10.0 is stored as 10). A value the store cannot
keep as a 64-bit integer (str, None, bool, 1.5, ...) raises InvalidCacheInfoError, a TypeError and ValueError,
before anything is written; VMPilot would have stored it as JSON.

Unlike VMPilot, errors are never swallowed: any failure other than "unknown thread" raises (a
ConversationStoreError, which is a grpc.RpcError, with the server's error details), so an agent never silently
starts over with an empty history.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Mapping
from typing import Any, Dict, List, Optional, Sequence, Tuple

from ._channel import DEFAULT_ADDRESS, ConnectionSettings, settings_from_environment
from .client import ConversationClient
from .errors import ConversationNotFoundError

logger = logging.getLogger(__name__)

MESSAGE_FORMAT_KEY = "vmpilot.message_format"
"""Conversation metadata key: "json" (messages given as dicts) or "langchain" (given as LangChain objects)."""

_lock = threading.Lock()
_client: Optional[ConversationClient] = None
_owns_client = True  # False for a client given to configure(), which its owner closes


def configure(address: Optional[str] = None, *, client: Optional[ConversationClient] = None,
              **client_options: Any) -> None:
    """Uses this server (ConversationClient's options) or this client from now on.

    configure() with no argument goes back to the environment's settings.
    """
    global _client, _owns_client
    if client is not None and (address is not None or client_options):
        raise ValueError("give either a client or the options of one, not both")
    owns = client is None
    if client is None:
        settings = (settings_from_environment() if address is None and not client_options
                    else ConnectionSettings.of(address or DEFAULT_ADDRESS, **client_options))
        client = ConversationClient.from_settings(settings)
    with _lock:
        previous, previous_owned = _client, _owns_client
        _client, _owns_client = client, owns
    if previous is not None and previous_owned:
        previous.close()


def _store() -> ConversationClient:
    global _client, _owns_client
    with _lock:
        if _client is None:
            _client, _owns_client = ConversationClient.from_settings(settings_from_environment()), True
        return _client


def save_conversation_state(thread_id: Optional[str], messages: Sequence[Any],
                            cache_info: Optional[Dict[str, int]] = None) -> None:
    """Saves the whole history; cache_info None keeps the stored one, a dict is merged over it."""
    if not thread_id:
        logger.warning("Cannot save conversation state: thread_id is %r", thread_id)
        return
    texts, message_format = _encode(messages)
    _store().save(thread_id, texts,
                  cache_info=cache_info or {},  # the server merges: keys given are set, others kept
                  metadata={MESSAGE_FORMAT_KEY: message_format} if message_format else None)


def get_conversation_state(thread_id: Optional[str]) -> Tuple[List[Any], Dict[str, int]]:
    """Returns (messages, cache_info); ([], {}) for an unknown thread (or a None or empty thread_id)."""
    if not thread_id:
        logger.debug("No conversation state for thread_id %r", thread_id)
        return [], {}
    conversation = _store().get(thread_id)
    if conversation is None:
        return [], {}
    texts = [m.json for m in conversation.messages]
    if conversation.metadata.get(MESSAGE_FORMAT_KEY) == "langchain":
        from .langchain import message_from_json

        messages: List[Any] = [message_from_json(text) for text in texts]
    else:
        messages = [json.loads(text) for text in texts]
    return messages, dict(conversation.cache_info)


def update_cache_info(thread_id: Optional[str], cache_info: Dict[str, int]) -> None:
    """Replaces the stored cache info; on an unknown thread only logs a warning."""
    if not thread_id:
        logger.warning("Cannot update cache info: thread_id is %r", thread_id)
        return
    try:
        _store().update_cache(thread_id, cache_info)
    except ConversationNotFoundError:
        logger.warning("Cannot update cache info: no state exists for thread_id %s", thread_id)


def clear_conversation_state(thread_id: Optional[str]) -> None:
    """Deletes the thread's history and cache info; an unknown thread is no error."""
    if not thread_id:
        logger.warning("Cannot clear conversation state: thread_id is %r", thread_id)
        return
    _store().clear(thread_id)


def _encode(messages: Sequence[Any]) -> Tuple[List[str], Optional[str]]:
    """The messages' JSON texts and their format ("json", "langchain"; None for no messages)."""
    if isinstance(messages, (str, bytes, Mapping)) or not isinstance(messages, Sequence):
        raise TypeError(f"messages must be a list, not {type(messages).__name__}")
    texts: List[str] = []
    formats = set()
    for n, message in enumerate(messages):
        if isinstance(message, Mapping):
            texts.append(json.dumps(message, allow_nan=False))
            formats.add("json")
        elif _is_langchain_message(message):
            from .langchain import message_to_json

            texts.append(message_to_json(message))
            formats.add("langchain")
        else:
            raise TypeError(f"messages[{n}] is a {type(message).__name__}; the store keeps dicts "
                            "(JSON objects) or LangChain messages")
    if len(formats) > 1:
        raise TypeError("messages mixes dicts and LangChain message objects; save one kind")
    return texts, formats.pop() if formats else None


def _is_langchain_message(message: Any) -> bool:
    try:
        from langchain_core.messages import BaseMessage
    except ImportError:  # without the langchain extra no message can be a LangChain object
        return False
    return isinstance(message, BaseMessage)
