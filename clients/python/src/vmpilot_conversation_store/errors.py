"""Failed calls, with the details the server attached: google.rpc ErrorInfo and BadRequest (AIP-193).

Every exception here is a `grpc.RpcError` with grpc's `code()` and `details()`, so code that already catches
grpc errors keeps working; the original grpc error is its `__cause__`.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Iterable, List, Mapping, Optional, Tuple

import grpc
from google.protobuf.message import DecodeError
from google.rpc import error_details_pb2, status_pb2

# The trailer in which gRPC carries a google.rpc.Status with the details.
_STATUS_DETAILS_KEY = "grpc-status-details-bin"


@dataclasses.dataclass(frozen=True)
class FieldViolation:
    """One offending request field (BadRequest), e.g. field "thread_id", or "messages[2].json"."""

    field: str
    description: str
    reason: str = ""


class ConversationStoreError(grpc.RpcError):
    """A call the server refused or could not complete: the status code plus the server's error details."""

    def __init__(self, code: grpc.StatusCode, details: str, *, reason: str = "", domain: str = "",
                 metadata: Optional[Mapping[str, str]] = None,
                 field_violations: Iterable[FieldViolation] = ()) -> None:
        self._code = code
        self._details = details
        self.reason = reason
        """The ErrorInfo reason, e.g. "VERSION_MISMATCH", "CONVERSATION_NOT_FOUND"; empty if none was sent."""
        self.domain = domain
        """The ErrorInfo domain: "conversation.vmpilot.io" for the server's own errors."""
        self.metadata: Mapping[str, str] = dict(metadata or {})
        """The ErrorInfo metadata, e.g. {"current_version": "12"}."""
        self.field_violations: Tuple[FieldViolation, ...] = tuple(field_violations)
        """For INVALID_ARGUMENT: each offending field and what is wrong with it."""
        super().__init__(str(self))

    def code(self) -> grpc.StatusCode:
        """The gRPC status code, e.g. grpc.StatusCode.INVALID_ARGUMENT."""
        return self._code

    def details(self) -> str:
        """The status message the server (or gRPC itself) gave."""
        return self._details

    def __str__(self) -> str:
        text = f"{self._code.name}: {self._details}"
        if self.reason:
            text += f" (reason {self.reason}"
            text += "".join(f", {k}={v}" for k, v in sorted(self.metadata.items())) + ")"
        if self.field_violations:
            text += "; " + "; ".join(f"{v.field}: {v.description}" for v in self.field_violations)
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}({str(self)!r})"


class ConversationNotFoundError(ConversationStoreError):
    """NOT_FOUND: the conversation does not exist (e.g. update_cache on an unknown thread)."""


class VersionConflictError(ConversationStoreError):
    """ABORTED, VERSION_MISMATCH: `expected_version` was stale, someone else changed the conversation first.

    Read it again, redo the change and retry with `current_version`; the client never retries these itself.
    """

    @property
    def current_version(self) -> int:
        """The conversation's version when the call was refused (0 if it does not exist, -1 if unknown)."""
        try:
            return int(self.metadata.get("current_version", "-1"))
        except ValueError:
            return -1


def from_rpc_error(error: grpc.RpcError) -> ConversationStoreError:
    """The store error for a failed call (sync or asyncio), with the details read from its trailers.

    A trailer that cannot be decoded leaves the details empty; the status code and message are still reported.
    """
    code = _call(error, "code") or grpc.StatusCode.UNKNOWN
    message = _call(error, "details") or ""
    info, violations = _details(_call(error, "trailing_metadata"))
    if code == grpc.StatusCode.NOT_FOUND:
        kind = ConversationNotFoundError
    elif code == grpc.StatusCode.ABORTED and info is not None and info.reason == "VERSION_MISMATCH":
        kind = VersionConflictError
    else:
        kind = ConversationStoreError
    return kind(code, message,
                reason=info.reason if info else "", domain=info.domain if info else "",
                metadata=dict(info.metadata) if info else {}, field_violations=violations)


def _call(error: grpc.RpcError, accessor: str) -> Any:
    method = getattr(error, accessor, None)
    return method() if callable(method) else None


def _details(trailers: Any) -> Tuple[Optional[error_details_pb2.ErrorInfo], List[FieldViolation]]:
    info: Optional[error_details_pb2.ErrorInfo] = None
    violations: List[FieldViolation] = []
    for key, value in trailers or ():
        if key != _STATUS_DETAILS_KEY:
            continue
        status = status_pb2.Status()
        try:
            status.ParseFromString(value)
        except DecodeError:
            continue
        for detail in status.details:
            if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
                info = error_details_pb2.ErrorInfo()
                detail.Unpack(info)
            elif detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
                bad_request = error_details_pb2.BadRequest()
                detail.Unpack(bad_request)
                violations.extend(FieldViolation(v.field, v.description, v.reason)
                                  for v in bad_request.field_violations)
    return info, violations


class InvalidCacheInfoError(TypeError, ValueError):
    """cache_info holds something the store cannot keep, raised before anything is sent.

    The store keeps cache info as token counters: str keys, whole numbers in the signed 64-bit range (a float
    with no fractional part, such as 10.0, is taken as the int 10). Anything else (str, None, bool, 1.5, a
    nested dict) is refused here rather than stored differently from what was given.
    """
