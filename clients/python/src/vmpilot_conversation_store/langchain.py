"""A LangChain chat message history kept in the conversation store (needs the `langchain` extra).

    from vmpilot_conversation_store.langchain import ConversationStoreChatMessageHistory

    history = ConversationStoreChatMessageHistory("thread-1")      # server from VMPILOT_STORE_ADDRESS
    history.add_messages([HumanMessage("hi"), AIMessage("hello")])
    history.messages                                              # [HumanMessage(...), AIMessage(...)]
    await history.aget_messages()                                 # the same, over grpc.aio

Each message is stored as the JSON of LangChain's own `message_to_dict` ({"type": ..., "data": {...}}), so
every message type (tool calls, content blocks, usage and response metadata, chunks included) comes back
equal to what was added, and other languages' clients read it as plain JSON.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any, List, Optional, Sequence

from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.messages import BaseMessage, message_to_dict, messages_from_dict

from ._channel import ConnectionSettings, settings_from_environment
from .aio import AsyncConversationClient
from .client import ConversationClient
from .types import Message


def message_to_json(message: BaseMessage) -> str:
    """The JSON text a LangChain message is stored as. Raises TypeError/ValueError for content JSON cannot hold
    (e.g. a ToolMessage artifact that is not JSON-serializable, a NaN)."""
    return json.dumps(message_to_dict(message), allow_nan=False)


def message_from_json(text: str) -> BaseMessage:
    """The LangChain message stored as `text` (by message_to_json or any writer of message_to_dict's form)."""
    return messages_from_dict([json.loads(text)])[0]


class ConversationStoreChatMessageHistory(BaseChatMessageHistory):
    """The chat history of one conversation (thread_id) in the conversation store.

    Connection: `client` (a ConversationClient; async methods then use `async_client` if given, else run the
    sync client in an executor), or the keyword options of ConversationClient (address, tls, ca_certificates,
    bearer_token, timeout, ...), or, with neither, the environment (VMPILOT_STORE_ADDRESS, VMPILOT_STORE_TLS,
    VMPILOT_STORE_CA_CERT, VMPILOT_STORE_TOKEN).

    add_messages is one Append: the messages are added at the end in one transaction, without re-sending the
    history, each with a fresh id so that a retried call never stores them twice. Errors are raised
    (ConversationStoreError with the server's details), never swallowed.
    """

    def __init__(self, thread_id: str, *, client: Optional[ConversationClient] = None,
                 async_client: Optional[AsyncConversationClient] = None, **client_options: Any) -> None:
        super().__init__()
        if not thread_id:
            raise ValueError("thread_id is required")
        if (client is not None or async_client is not None) and client_options:
            raise ValueError(f"give either a client or client options, not both: {sorted(client_options)}")
        self.thread_id = thread_id
        self._settings: Optional[ConnectionSettings] = None
        if client is None:
            self._settings = (ConnectionSettings.of(**client_options) if client_options
                              else settings_from_environment())
            client = ConversationClient.from_settings(self._settings)
        self._owns_clients = self._settings is not None
        self.client = client
        self._given_async_client = async_client
        self._async_client: Optional[AsyncConversationClient] = None  # made from _settings, for _async_loop
        self._async_loop: Optional[asyncio.AbstractEventLoop] = None

    @property
    def messages(self) -> List[BaseMessage]:  # type: ignore[override]
        """Every message of the conversation, oldest first ([] if it does not exist)."""
        conversation = self.client.get(self.thread_id)
        return [] if conversation is None else [message_from_json(m.json) for m in conversation.messages]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        if messages:
            self.client.append(self.thread_id, _to_store(messages))

    def clear(self) -> None:
        self.client.clear(self.thread_id)

    async def aget_messages(self) -> List[BaseMessage]:
        client = self._aio()
        if client is None:
            return await super().aget_messages()
        conversation = await client.get(self.thread_id)
        return [] if conversation is None else [message_from_json(m.json) for m in conversation.messages]

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        client = self._aio()
        if client is None:
            return await super().aadd_messages(messages)
        if messages:
            await client.append(self.thread_id, _to_store(messages))

    async def aclear(self) -> None:
        client = self._aio()
        if client is None:
            return await super().aclear()
        await client.clear(self.thread_id)

    def close(self) -> None:
        """Closes the channels this history opened (not a client it was given)."""
        if self._owns_clients:
            self.client.close()
            # An asyncio channel closes with its loop; nothing is left to release once that loop is gone.

    def _aio(self) -> Optional[AsyncConversationClient]:
        """The asyncio client for the running loop: grpc.aio channels cannot move between event loops."""
        if self._given_async_client is not None:
            return self._given_async_client
        if self._settings is None:  # a given sync client only: BaseChatMessageHistory runs it in an executor
            return None
        loop = asyncio.get_running_loop()
        if self._async_client is None or self._async_loop is not loop:
            self._async_client = AsyncConversationClient.from_settings(self._settings)
            self._async_loop = loop
        return self._async_client


def _to_store(messages: Sequence[BaseMessage]) -> List[Message]:
    for n, message in enumerate(messages):
        if not isinstance(message, BaseMessage):
            raise TypeError(f"messages[{n}] is a {type(message).__name__}, not a LangChain message")
    return [Message(json=message_to_json(m), id=uuid.uuid4().hex) for m in messages]
