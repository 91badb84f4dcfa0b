"""AsyncConversationClient: ConversationClient for asyncio, over grpc.aio."""

from __future__ import annotations

from typing import Any, AsyncIterator, Iterable, Mapping, Optional, Sequence

import grpc
import grpc.aio

from . import _convert
from ._channel import DEFAULT_ADDRESS, ConnectionSettings, PathLike
from ._convert import MessageLike
from .errors import ConversationNotFoundError, from_rpc_error
from ._watch import AsyncWatch
from .stubs import pb_grpc
from .types import (AppendResult, Conversation, ConversationPage, ConversationSummary, ForkResult, SaveResult,
                    SearchPage, SearchResult)


class AsyncConversationClient:
    """The methods, settings and errors of ConversationClient, awaited.

        async with AsyncConversationClient("localhost:50051") as store:
            await store.append("thread-1", ['{"role":"user","content":"hi"}'])
            conversation = await store.get("thread-1")

    A grpc.aio channel belongs to the event loop it was made on: make the client inside the loop that uses it.
    The admin service's calls (export, import, status, backup) are on ConversationClient only.
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, *, tls: bool = False,
                 ca_certificates: Optional[PathLike] = None, client_certificate: Optional[PathLike] = None,
                 client_key: Optional[PathLike] = None, authority: Optional[str] = None,
                 bearer_token: Optional[str] = None, timeout: float = 10.0, max_attempts: int = 5,
                 max_receive_message_bytes: int = 64 << 20) -> None:
        self._init(ConnectionSettings.of(
            address, tls=tls, ca_certificates=ca_certificates, client_certificate=client_certificate,
            client_key=client_key, authority=authority, bearer_token=bearer_token, timeout=timeout,
            max_attempts=max_attempts, max_receive_message_bytes=max_receive_message_bytes))

    @classmethod
    def from_settings(cls, settings: ConnectionSettings) -> "AsyncConversationClient":
        client = cls.__new__(cls)
        client._init(settings)
        return client

    def _init(self, settings: ConnectionSettings) -> None:
        self._channel = settings.aio_channel()
        self.stub = pb_grpc.ConversationServiceStub(self._channel)
        """The generated stub over the asyncio channel (bearer token included)."""
        self.timeout = settings.timeout

    async def save(self, thread_id: str, messages: Sequence[MessageLike], *,
                   cache_info: Optional[Mapping[str, Any]] = None, metadata: Optional[Mapping[str, str]] = None,
                   expected_version: Optional[int] = None) -> SaveResult:
        return _convert.save_result(await self._call(self.stub.Save, _convert.save_request(
            thread_id, messages, cache_info, metadata, expected_version)))

    async def get(self, thread_id: str, *, start_position: int = 0,
                  max_messages: int = 0) -> Optional[Conversation]:
        try:
            response = await self._call(self.stub.Get, _convert.get_request(thread_id, start_position,
                                                                            max_messages))
        except ConversationNotFoundError:
            return None
        return _convert.conversation(response.conversation)

    async def append(self, thread_id: str, messages: Sequence[MessageLike], *,
                     cache_info: Optional[Mapping[str, Any]] = None,
                     expected_version: Optional[int] = None) -> AppendResult:
        """As ConversationClient.append: cache_info is set with the messages, in one transaction."""
        return _convert.append_result(await self._call(self.stub.Append, _convert.append_request(
            thread_id, messages, expected_version, cache_info)))

    async def update_cache(self, thread_id: str, cache_info: Mapping[str, Any], *,
                           expected_version: Optional[int] = None) -> int:
        return (await self._call(self.stub.UpdateCache, _convert.update_cache_request(
            thread_id, cache_info, expected_version))).version

    async def clear(self, thread_id: str, *, expected_version: Optional[int] = None) -> bool:
        return (await self._call(self.stub.Clear, _convert.clear_request(thread_id, expected_version))).deleted

    async def list(self, *, metadata_filter: Optional[Mapping[str, str]] = None,
                   page_size: int = 0) -> AsyncIterator[ConversationSummary]:
        token = ""
        while True:
            page = await self.list_page(page_size=page_size, page_token=token, metadata_filter=metadata_filter)
            for summary in page.conversations:
                yield summary
            token = page.next_page_token
            if not token:
                return

    async def list_page(self, *, page_size: int = 0, page_token: str = "",
                        metadata_filter: Optional[Mapping[str, str]] = None) -> ConversationPage:
        return _convert.page(await self._call(self.stub.List, _convert.list_request(page_size, page_token,
                                                                                    metadata_filter)))

    async def update_metadata(self, thread_id: str, *, set: Optional[Mapping[str, str]] = None,
                              remove: Iterable[str] = (), cache_set: Optional[Mapping[str, Any]] = None,
                              cache_remove: Iterable[str] = (), expected_version: Optional[int] = None) -> int:
        return (await self._call(self.stub.UpdateMetadata, _convert.update_metadata_request(
            thread_id, set, remove, cache_set, cache_remove, expected_version))).version

    async def fork(self, thread_id: str, new_thread_id: str, *, end_position: Optional[int] = None,
                   expected_version: Optional[int] = None) -> ForkResult:
        return _convert.fork_result(await self._call(self.stub.Fork, _convert.fork_request(
            thread_id, new_thread_id, end_position, expected_version)))

    async def search(self, query: str, *, metadata_filter: Optional[Mapping[str, str]] = None,
                     page_size: int = 0) -> AsyncIterator[SearchResult]:
        token = ""
        while True:
            page = await self.search_page(query, page_size=page_size, page_token=token,
                                          metadata_filter=metadata_filter)
            for result in page.results:
                yield result
            token = page.next_page_token
            if not token:
                return

    async def search_page(self, query: str, *, page_size: int = 0, page_token: str = "",
                          metadata_filter: Optional[Mapping[str, str]] = None) -> SearchPage:
        return _convert.search_page(await self._call(self.stub.Search, _convert.search_request(
            query, page_size, page_token, metadata_filter)))

    def watch(self, thread_id: str = "", *, start_version: int = 0,
              metadata_filter: Optional[Mapping[str, str]] = None,
              max_reconnects: Optional[int] = 10) -> AsyncWatch:
        """`async for event in store.watch(...)`: see ConversationClient.watch; close() ends it."""
        return AsyncWatch(self.stub.Watch, thread_id, start_version, metadata_filter, max_reconnects)

    async def close(self) -> None:
        await self._channel.close()

    async def __aenter__(self) -> "AsyncConversationClient":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def _call(self, rpc, request):
        try:
            return await rpc(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
