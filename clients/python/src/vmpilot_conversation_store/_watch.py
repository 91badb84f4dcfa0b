"""Watch as an iterator of ChangeEvents that reconnects by itself from the last version it yielded."""

from __future__ import annotations

import asyncio
import random
import threading
import time
from typing import AsyncIterator, Callable, Iterator, Optional

import grpc

from . import _convert
from .errors import ConversationStoreError, from_rpc_error
from .stubs import pb
from .types import ChangeEvent

# A stream that ends with UNAVAILABLE (the server stopping, SERVER_SHUTTING_DOWN, or the connection lost) is opened
# again from the last version yielded, after a pause that doubles from INITIAL_BACKOFF up to MAX_BACKOFF; the
# count of attempts starts again with each event received.
INITIAL_BACKOFF_SECONDS = 0.1
MAX_BACKOFF_SECONDS = 5.0


def _pause(attempt: int) -> float:
    # Jitter, so that the watchers of a restarted server do not all come back at the same instant.
    return min(MAX_BACKOFF_SECONDS, INITIAL_BACKOFF_SECONDS * (2 ** attempt)) * random.uniform(0.5, 1.0)


class Watch(Iterator[ChangeEvent]):
    """The changes of one conversation or of the whole tenant, oldest first, for as long as it is iterated.

        for event in store.watch(metadata_filter={"project": "p"}):
            print(event.thread_id, event.version, event.kind)

    `last_version` is the version of the last event yielded: after the stream ended with an error, watch again
    with start_version=last_version to miss nothing and get nothing twice. The iterator does that itself when the
    stream ends with UNAVAILABLE, at most `max_reconnects` times in a row (None: without end); any other error
    (CHANGE_LOG_PRUNED: read again and watch from the version read; WATCHER_TOO_SLOW; INVALID_ARGUMENT) is raised
    as a ConversationStoreError. close() (from any thread) ends the iteration.
    """

    def __init__(self, open_stream: Callable[[pb.WatchRequest], Iterator[pb.WatchResponse]], thread_id: str,
                 start_version: int, metadata_filter, max_reconnects: Optional[int]) -> None:
        self._open = open_stream
        self._thread_id = thread_id
        self._filter = dict(metadata_filter or {})
        self._max_reconnects = max_reconnects
        self._lock = threading.Lock()
        self._call = None
        self._closed = False
        self._failed_attempts = 0
        self.last_version = start_version
        """The version of the last event yielded (the start_version until one is)."""
        self.reconnects = 0
        """How many times the stream was opened again after UNAVAILABLE."""

    def __iter__(self) -> "Watch":
        return self

    def __next__(self) -> ChangeEvent:
        while True:
            call = self._current()
            try:
                response = next(call)
            except StopIteration:
                raise
            except grpc.RpcError as error:
                with self._lock:
                    self._call = None
                    if self._closed:
                        raise StopIteration from None
                failure = from_rpc_error(error)
                if not self._may_reconnect(failure):
                    raise failure from error
                time.sleep(_pause(self._failed_attempts))
                self._failed_attempts += 1
                self.reconnects += 1
                continue
            self._failed_attempts = 0
            event = _convert.change_event(response)
            self.last_version = event.version
            return event

    def _current(self):
        with self._lock:
            if self._closed:
                raise StopIteration
            if self._call is None:
                self._call = self._open(_convert.watch_request(self._thread_id, self.last_version, self._filter))
            return self._call

    def _may_reconnect(self, failure: ConversationStoreError) -> bool:
        return failure.code() == grpc.StatusCode.UNAVAILABLE and (
            self._max_reconnects is None or self._failed_attempts < self._max_reconnects)

    def close(self) -> None:
        """Ends the stream; the iteration stops (StopIteration) instead of waiting for the next change."""
        with self._lock:
            self._closed = True
            call, self._call = self._call, None
        if call is not None:
            call.cancel()

    def __enter__(self) -> "Watch":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncWatch(AsyncIterator[ChangeEvent]):
    """Watch for asyncio: `async for event in store.watch(...)`, with the same resumption and errors."""

    def __init__(self, open_stream, thread_id: str, start_version: int, metadata_filter,
                 max_reconnects: Optional[int]) -> None:
        self._open = open_stream
        self._thread_id = thread_id
        self._filter = dict(metadata_filter or {})
        self._max_reconnects = max_reconnects
        self._call = None
        self._closed = False
        self._failed_attempts = 0
        self.last_version = start_version
        self.reconnects = 0

    def __aiter__(self) -> "AsyncWatch":
        return self

    async def __anext__(self) -> ChangeEvent:
        while True:
            if self._closed:
                raise StopAsyncIteration
            if self._call is None:
                self._call = self._open(_convert.watch_request(self._thread_id, self.last_version, self._filter))
            try:
                response = await self._call.read()
            except grpc.RpcError as error:
                self._call = None
                if self._closed:
                    raise StopAsyncIteration from None
                failure = from_rpc_error(error)
                if not (failure.code() == grpc.StatusCode.UNAVAILABLE and (
                        self._max_reconnects is None or self._failed_attempts < self._max_reconnects)):
                    raise failure from error
                await asyncio.sleep(_pause(self._failed_attempts))
                self._failed_attempts += 1
                self.reconnects += 1
                continue
            if response is grpc.aio.EOF:
                self._call = None
                raise StopAsyncIteration
            self._failed_attempts = 0
            event = _convert.change_event(response)
            self.last_version = event.version
            return event

    def close(self) -> None:
        self._closed = True
        if self._call is not None:
            self._call.cancel()
            self._call = None
