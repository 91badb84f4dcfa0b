"""VMPilot drop-in: VMPilot's four conversation-state functions, backed by the conversation store.

Swap one import in VMPilot:

    # from vmpilot.unified_memory import (...)
    from vmpilot_store import (
        save_conversation_state, get_conversation_state, update_cache_info, clear_conversation_state)

Same arguments, return values and behaviour as VMPilot's own functions:

* save_conversation_state(thread_id, messages, cache_info=None) replaces the history;
  cache_info None keeps the stored cache info, a dict is merged over it.
* get_conversation_state(thread_id) -> (messages, cache_info); an unknown thread gives ([], {}).
* update_cache_info(thread_id, cache_info) replaces the cache info; an unknown thread only logs
  a warning.
* clear_conversation_state(thread_id) deletes the thread; an unknown thread is no error.

Messages are JSON-serializable dicts (OpenAI-style or LangChain dicts), stored as json.dumps text
and returned through json.loads. Unlike VMPilot, errors are never swallowed: any failure other
than "unknown thread" raises grpc.RpcError, so an agent never silently starts over.

The server address is $VMPILOT_CONVERSATION_STORE (default localhost:50051), or configure(address).
Needs the Python stubs generated from proto/ (package vmpilot.conversation.v1); in VMPilot's own
tree, generate them into its source root so that they join its `vmpilot` package.
"""

import json
import logging
import os
import threading
from typing import Any, Dict, List, Optional, Tuple

import grpc

from vmpilot.conversation.v1 import conversation_service_pb2 as pb
from vmpilot.conversation.v1 import conversation_service_pb2_grpc as pb_grpc

logger = logging.getLogger(__name__)

DEFAULT_ADDRESS = "localhost:50051"
TIMEOUT_SECONDS = 30.0

_lock = threading.Lock()
_channel: Optional[grpc.Channel] = None
_stub: Optional[pb_grpc.ConversationServiceStub] = None


def configure(address: str) -> None:
    """Uses the server at `address` (host:port) from now on."""
    global _channel, _stub
    with _lock:
        if _channel is not None:
            _channel.close()
        _channel = grpc.insecure_channel(address)
        _stub = pb_grpc.ConversationServiceStub(_channel)


def _store() -> pb_grpc.ConversationServiceStub:
    if _stub is None:
        address = os.environ.get("VMPILOT_CONVERSATION_STORE") or DEFAULT_ADDRESS
        with _lock:
            if _stub is not None:  # configured meanwhile by another thread
                return _stub
        configure(address)
    return _stub


def save_conversation_state(thread_id: str, messages: List[Dict[str, Any]],
                            cache_info: Optional[Dict[str, int]] = None) -> None:
    """Saves the whole history; cache_info None keeps the stored one, a dict is merged over it."""
    _store().Save(pb.SaveRequest(
        thread_id=thread_id,
        messages=[pb.Message(json=json.dumps(message)) for message in messages],
        cache_info=cache_info or {},  # the server merges: keys given are set, others kept
    ), timeout=TIMEOUT_SECONDS)


def get_conversation_state(thread_id: str) -> Tuple[List[Dict[str, Any]], Dict[str, int]]:
    """Returns (messages, cache_info); ([], {}) for an unknown thread."""
    try:
        response = _store().Get(pb.GetRequest(thread_id=thread_id), timeout=TIMEOUT_SECONDS)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            return [], {}
        raise
    conversation = response.conversation
    return ([json.loads(message.json) for message in conversation.messages],
            dict(conversation.cache_info))


def update_cache_info(thread_id: str, cache_info: Dict[str, int]) -> None:
    """Replaces the stored cache info; on an unknown thread only logs a warning."""
    try:
        _store().UpdateCache(pb.UpdateCacheRequest(thread_id=thread_id, cache_info=cache_info),
                             timeout=TIMEOUT_SECONDS)
    except grpc.RpcError as err:
        if err.code() == grpc.StatusCode.NOT_FOUND:
            logger.warning("update_cache_info: no conversation state for thread %s", thread_id)
            return
        raise


def clear_conversation_state(thread_id: str) -> None:
    """Deletes the thread's history and cache info; an unknown thread is no error."""
    _store().Clear(pb.ClearRequest(thread_id=thread_id), timeout=TIMEOUT_SECONDS)
