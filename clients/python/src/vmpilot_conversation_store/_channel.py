"""How a client connects: address, TLS, bearer token, deadline and retries, made into a grpc (or grpc.aio) channel."""

from __future__ import annotations

import collections
import dataclasses
import json
import os
from typing import Any, List, Mapping, Optional, Tuple, Union

import grpc
import grpc.aio

from .stubs import SERVICE_NAME

PathLike = Union[str, "os.PathLike[str]"]

DEFAULT_ADDRESS = "localhost:50051"


@dataclasses.dataclass(frozen=True)
class ConnectionSettings:
    """Every setting of a client; see ConversationClient for what each one means."""

    address: str = DEFAULT_ADDRESS
    tls: bool = False
    ca_certificates: Optional[bytes] = dataclasses.field(default=None, repr=False)
    client_certificate_chain: Optional[bytes] = dataclasses.field(default=None, repr=False)
    client_private_key: Optional[bytes] = dataclasses.field(default=None, repr=False)
    authority: Optional[str] = None
    bearer_token: Optional[str] = dataclasses.field(default=None, repr=False)
    timeout: float = 10.0
    max_attempts: int = 5
    max_receive_message_bytes: int = 64 << 20

    @classmethod
    def of(cls, address: str = DEFAULT_ADDRESS, *, tls: bool = False, ca_certificates: Optional[PathLike] = None,
           client_certificate: Optional[PathLike] = None, client_key: Optional[PathLike] = None,
           authority: Optional[str] = None, bearer_token: Optional[str] = None, timeout: float = 10.0,
           max_attempts: int = 5, max_receive_message_bytes: int = 64 << 20) -> "ConnectionSettings":
        """Checks the settings and reads the PEM files (an unreadable file raises OSError here, not later)."""
        if not address:
            raise ValueError("the address is empty; give host:port")
        if (client_certificate is None) != (client_key is None):
            raise ValueError("client_certificate and client_key go together")
        if bearer_token is not None and not bearer_token.strip():
            raise ValueError("the bearer token is empty")
        if max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if timeout <= 0:
            raise ValueError("timeout must be positive")
        return cls(
            address=address,
            tls=tls or ca_certificates is not None or client_certificate is not None,
            ca_certificates=_read(ca_certificates), client_certificate_chain=_read(client_certificate),
            client_private_key=_read(client_key), authority=authority, bearer_token=bearer_token,
            timeout=timeout, max_attempts=max_attempts, max_receive_message_bytes=max_receive_message_bytes)

    def channel(self) -> grpc.Channel:
        if self.tls:
            channel = grpc.secure_channel(self.address, self._credentials(), options=self._options())
        else:
            channel = grpc.insecure_channel(self.address, options=self._options())
        if self.bearer_token is None:
            return channel
        return grpc.intercept_channel(channel, _BearerToken(self.bearer_token))

    def aio_channel(self) -> grpc.aio.Channel:
        """An asyncio channel; it belongs to the event loop running when it is made."""
        interceptors = [] if self.bearer_token is None else [_AioBearerToken(self.bearer_token),
                                                             _AioStreamBearerToken(self.bearer_token)]
        if self.tls:
            return grpc.aio.secure_channel(self.address, self._credentials(), options=self._options(),
                                           interceptors=interceptors)
        return grpc.aio.insecure_channel(self.address, options=self._options(), interceptors=interceptors)

    def _credentials(self) -> grpc.ChannelCredentials:
        # No CA file: grpc's default roots, i.e. a server whose certificate a public CA signed.
        return grpc.ssl_channel_credentials(root_certificates=self.ca_certificates,
                                            private_key=self.client_private_key,
                                            certificate_chain=self.client_certificate_chain)

    def _options(self) -> List[Tuple[str, Any]]:
        options: List[Tuple[str, Any]] = [("grpc.max_receive_message_length", self.max_receive_message_bytes)]
        if self.authority is not None:
            options.append(("grpc.default_authority", self.authority))
            if self.tls:
                options.append(("grpc.ssl_target_name_override", self.authority))
        if self.max_attempts > 1:
            options += [("grpc.enable_retries", 1), ("grpc.service_config", retry_service_config(self.max_attempts))]
        else:
            options.append(("grpc.enable_retries", 0))
        return options


def retry_service_config(max_attempts: int) -> str:
    """gRPC's retry policy: UNAVAILABLE, and RESOURCE_EXHAUSTED as the server says.

    The server's RESOURCE_EXHAUSTED refusals say whether to retry in the grpc-retry-pushback-ms trailer: a busy
    server (reason IN_FLIGHT_LIMIT or OUT_OF_MEMORY, nothing done) gives the delay to wait, which gRPC then waits
    instead of its own backoff; a refusal that asking again cannot change (a history or tenant limit, a full
    store) gives -1, and gRPC raises it at once. So the Java client behaves the same (grpc-java retries any status
    with a pushback). ABORTED (a version conflict) is the caller's to resolve.
    """
    return json.dumps({"methodConfig": [{
        "name": [{"service": SERVICE_NAME}],
        "retryPolicy": {
            "maxAttempts": max_attempts, "initialBackoff": "0.1s", "maxBackoff": "2s", "backoffMultiplier": 2,
            "retryableStatusCodes": ["UNAVAILABLE", "RESOURCE_EXHAUSTED"],
        },
    }]})


def _read(path: Optional[PathLike]) -> Optional[bytes]:
    if path is None:
        return None
    with open(path, "rb") as f:
        return f.read()


class _CallDetails(collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
        grpc.ClientCallDetails):
    pass


class _BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor,
                   grpc.StreamUnaryClientInterceptor):
    """Sends `authorization: Bearer <token>` with every call, over TLS or plaintext alike.

    grpc's own access-token credentials only work over TLS; the server accepts the header on a plaintext
    connection too (the same machine, a sidecar), as the Java client's BearerToken sends it.
    """

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    # Watch and Export (a stream of responses), Import (a stream of requests).
    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_stream_unary(self, continuation, details, request_iterator):
        return continuation(self._with_token(details), request_iterator)

    def _with_token(self, details):
        metadata = [*(details.metadata or ()), self._header]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials, details.wait_for_ready,
                            getattr(details, "compression", None))

    def __repr__(self) -> str:
        return "BearerToken[***]"


class _AioBearerToken(grpc.aio.UnaryUnaryClientInterceptor):
    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    async def intercept_unary_unary(self, continuation, details, request):
        return await continuation(_aio_with_token(details, self._header), request)

    def __repr__(self) -> str:
        return "BearerToken[***]"


class _AioStreamBearerToken(grpc.aio.UnaryStreamClientInterceptor):
    """The token on Watch's stream (grpc.aio takes one interceptor class per kind of call)."""

    def __init__(self, token: str) -> None:
        self._header = ("authorization", f"Bearer {token}")

    async def intercept_unary_stream(self, continuation, details, request):
        return await continuation(_aio_with_token(details, self._header), request)

    def __repr__(self) -> str:
        return "BearerToken[***]"


ENV_ADDRESS = "VMPILOT_STORE_ADDRESS"
ENV_TLS = "VMPILOT_STORE_TLS"
ENV_CA_CERTIFICATES = "VMPILOT_STORE_CA_CERT"
ENV_TOKEN = "VMPILOT_STORE_TOKEN"


def settings_from_environment(environ: Optional[Mapping[str, str]] = None) -> ConnectionSettings:
    """Settings from the environment, for code that cannot pass them (the VMPilot drop-in):

    VMPILOT_STORE_ADDRESS  host:port, default localhost:50051
    VMPILOT_STORE_TLS      true: TLS with the system's CA roots (default false)
    VMPILOT_STORE_CA_CERT  a PEM file of the CA to trust; implies TLS
    VMPILOT_STORE_TOKEN    the bearer token, for a server with authentication on
    """
    env = os.environ if environ is None else environ
    tls_text = env.get(ENV_TLS, "").strip().lower()
    if tls_text not in ("", "true", "false", "1", "0"):
        raise ValueError(f"{ENV_TLS}={env[ENV_TLS]!r}: expected true or false")
    return ConnectionSettings.of(
        env.get(ENV_ADDRESS) or DEFAULT_ADDRESS, tls=tls_text in ("true", "1"),
        ca_certificates=env.get(ENV_CA_CERTIFICATES) or None, bearer_token=env.get(ENV_TOKEN) or None)


def _aio_with_token(details, header):
    metadata = grpc.aio.Metadata(*(details.metadata or ()), header)
    return grpc.aio.ClientCallDetails(details.method, details.timeout, metadata, details.credentials,
                                      details.wait_for_ready)
