"""ConversationClient: the conversation store's six RPCs with Python values in and out."""

from __future__ import annotations

from typing import Any, Iterator, Mapping, Optional, Sequence

import grpc

from . import _convert
from ._channel import DEFAULT_ADDRESS, ConnectionSettings, PathLike
from ._convert import MessageLike
from .errors import ConversationNotFoundError, from_rpc_error
from .stubs import pb_grpc
from .types import AppendResult, Conversation, ConversationPage, ConversationSummary, SaveResult


class ConversationClient:
    """A client of the conversation store. Messages go in and come out as JSON text, exactly as written.

        with ConversationClient("localhost:50051") as store:
            store.append("thread-1", ['{"role":"user","content":"hi"}'])
            conversation = store.get("thread-1")       # None if there is no such conversation

    With TLS and a bearer token:

        ConversationClient("store.example.com:50051",
                           ca_certificates="ca.pem",            # trust the server's CA (tls=True: system roots)
                           client_certificate="client.pem", client_key="client.key",  # if it requires one
                           bearer_token=os.environ["VMPILOT_TOKEN"])                 # if it has auth on

    Settings: `tls` (system CA roots unless `ca_certificates`, a PEM file, is given; either certificate option
    implies TLS), `authority` (the host name checked against the server's certificate when it differs from the
    address's), `bearer_token` (sent as `authorization: Bearer ...`; use TLS unless the server is on the same
    machine), `timeout` (seconds per call, retries included; default 10), `max_attempts` (calls failing with
    UNAVAILABLE are retried with backoff, default 5 attempts; a version conflict never is),
    `max_receive_message_bytes` (largest response, default 64 MiB).

    Failures raise ConversationStoreError (VersionConflictError for a stale expected_version,
    ConversationNotFoundError for NOT_FOUND) with the server's ErrorInfo and BadRequest details. Thread-safe;
    share one instance.
    """

    def __init__(self, address: str = DEFAULT_ADDRESS, *, tls: bool = False,
                 ca_certificates: Optional[PathLike] = None, client_certificate: Optional[PathLike] = None,
                 client_key: Optional[PathLike] = None, authority: Optional[str] = None,
                 bearer_token: Optional[str] = None, timeout: float = 10.0, max_attempts: int = 5,
                 max_receive_message_bytes: int = 64 << 20) -> None:
        settings = ConnectionSettings.of(
            address, tls=tls, ca_certificates=ca_certificates, client_certificate=client_certificate,
            client_key=client_key, authority=authority, bearer_token=bearer_token, timeout=timeout,
            max_attempts=max_attempts, max_receive_message_bytes=max_receive_message_bytes)
        self._init(settings.channel(), settings.timeout, owns_channel=True)

    @classmethod
    def from_settings(cls, settings: ConnectionSettings) -> "ConversationClient":
        client = cls.__new__(cls)
        client._init(settings.channel(), settings.timeout, owns_channel=True)
        return client

    @classmethod
    def over(cls, channel: grpc.Channel, *, timeout: float = 10.0) -> "ConversationClient":
        """A client over a channel the caller made and will close."""
        client = cls.__new__(cls)
        client._init(channel, timeout, owns_channel=False)
        return client

    def _init(self, channel: grpc.Channel, timeout: float, owns_channel: bool) -> None:
        self._channel = channel
        self._owns_channel = owns_channel
        self.stub = pb_grpc.ConversationServiceStub(channel)
        """The generated stub (bearer token included), for anything the methods here do not cover."""
        self.timeout = timeout

    def save(self, thread_id: str, messages: Sequence[MessageLike], *,
             cache_info: Optional[Mapping[str, Any]] = None, metadata: Optional[Mapping[str, str]] = None,
             expected_version: Optional[int] = None) -> SaveResult:
        """Replaces the whole history with `messages`, creating the conversation if needed.

        cache_info and metadata keys given are set, stored keys not given are kept.
        """
        return _convert.save_result(self._call(self.stub.Save, _convert.save_request(
            thread_id, messages, cache_info, metadata, expected_version)))

    def get(self, thread_id: str, *, start_position: int = 0, max_messages: int = 0) -> Optional[Conversation]:
        """The conversation (only the newest max_messages messages if > 0, from start_position on), or None."""
        try:
            response = self._call(self.stub.Get, _convert.get_request(thread_id, start_position, max_messages))
        except ConversationNotFoundError:
            return None
        return _convert.conversation(response.conversation)

    def append(self, thread_id: str, messages: Sequence[MessageLike], *,
               cache_info: Optional[Mapping[str, Any]] = None,
               expected_version: Optional[int] = None) -> AppendResult:
        """Adds messages at the end, creating the conversation if needed; a Message whose id is stored is skipped.

        cache_info: counters to set with the messages in the same transaction (keys given are set, the others
        kept, as in save), so that an agent's turn is one call. A retry whose messages all carry ids already
        stored changes nothing, its counters included (the first attempt set them).
        """
        return _convert.append_result(self._call(self.stub.Append, _convert.append_request(
            thread_id, messages, expected_version, cache_info)))

    def update_cache(self, thread_id: str, cache_info: Mapping[str, Any], *,
                     expected_version: Optional[int] = None) -> int:
        """Replaces the cache info; returns the new version. ConversationNotFoundError for an unknown thread."""
        return self._call(self.stub.UpdateCache, _convert.update_cache_request(
            thread_id, cache_info, expected_version)).version

    def clear(self, thread_id: str, *, expected_version: Optional[int] = None) -> bool:
        """Deletes the conversation; returns whether there was one."""
        return self._call(self.stub.Clear, _convert.clear_request(thread_id, expected_version)).deleted

    def list(self, *, metadata_filter: Optional[Mapping[str, str]] = None,
             page_size: int = 0) -> Iterator[ConversationSummary]:
        """Every conversation (whose metadata holds all of metadata_filter), most recently updated first.

        Pages are fetched as the iteration proceeds; page_size sets their length (0: the server's default).
        """
        token = ""
        while True:
            page = self.list_page(page_size=page_size, page_token=token, metadata_filter=metadata_filter)
            yield from page.conversations
            token = page.next_page_token
            if not token:
                return

    def list_page(self, *, page_size: int = 0, page_token: str = "",
                  metadata_filter: Optional[Mapping[str, str]] = None) -> ConversationPage:
        """One page of List, for callers that keep the page token themselves."""
        return _convert.page(self._call(self.stub.List, _convert.list_request(page_size, page_token,
                                                                              metadata_filter)))

    def close(self) -> None:
        if self._owns_channel:
            self._channel.close()

    def __enter__(self) -> "ConversationClient":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _call(self, rpc, request):
        try:
            return rpc(request, timeout=self.timeout)
        except grpc.RpcError as error:
            raise from_rpc_error(error) from error
