"""TLS, mutual TLS and bearer tokens against real servers started with them, for both clients and the drop-in."""

import grpc
import pytest

from certificates import TestCertificates
from vmpilot_conversation_store import AsyncConversationClient, ConversationClient, ConversationStoreError
from vmpilot_conversation_store import vmpilot

ALICE = "alice-7Qm2p9ZkVt4xWc8rHn3s"
BOB = "bob-K5vL1dR8yT2uE6oJ0aSf"
TOKENS = {"VMPILOT_AUTH_TOKENS": f"alice={ALICE},bob={BOB}"}
NO_RETRY = {"max_attempts": 1, "timeout": 20}


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return TestCertificates.create(tmp_path_factory.mktemp("certs"))


@pytest.fixture(scope="module")
def tls_auth_server(start_server, certs):
    """TLS with bearer tokens (alice, bob), conversations in memory."""
    server = start_server("--database-enabled", "false", "--tls-cert", str(certs.server_cert),
                          "--tls-key", str(certs.server_key), "--auth-enabled", "true", env=TOKENS)
    assert "tls=on auth=on" in server.output()
    return server


@pytest.fixture(scope="module")
def mutual_tls_server(start_server, certs):
    server = start_server("--database-enabled", "false", "--tls-cert", str(certs.server_cert),
                          "--tls-key", str(certs.server_key), "--tls-client-ca", str(certs.ca))
    assert "tls=mutual" in server.output()
    return server


@pytest.fixture(scope="module")
def plaintext_auth_server(start_server):
    return start_server("--database-enabled", "false", "--auth-enabled", "true", env=TOKENS)


def _refused(client: ConversationClient) -> ConversationStoreError:
    with pytest.raises(ConversationStoreError) as raised:
        client.save("refused", ['{"a":1}'])
    return raised.value


def test_tls_with_a_bearer_token(tls_auth_server, certs):
    with ConversationClient(f"localhost:{tls_auth_server.port}", ca_certificates=certs.ca, bearer_token=ALICE,
                            **NO_RETRY) as alice:
        assert alice.save("t", ['{"over":"tls"}']).created
        assert alice.get("t").messages[0].json == '{"over":"tls"}'
    # The certificate names 127.0.0.1 too.
    with ConversationClient(tls_auth_server.target, ca_certificates=certs.ca, bearer_token=ALICE) as by_ip:
        assert by_ip.get("t") is not None
    # Each token is a tenant that sees only its own conversations.
    with ConversationClient(tls_auth_server.target, ca_certificates=certs.ca, bearer_token=BOB) as bob:
        assert bob.get("t") is None


def test_the_server_name_can_differ_from_the_address(tls_auth_server, certs):
    with ConversationClient(tls_auth_server.target, ca_certificates=certs.ca, authority="localhost",
                            bearer_token=ALICE) as client:
        assert client.clear("nothing-here") is False


def test_a_missing_or_unknown_token_is_refused_with_its_reason(tls_auth_server, certs):
    with ConversationClient(tls_auth_server.target, ca_certificates=certs.ca, **NO_RETRY) as anonymous:
        error = _refused(anonymous)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and error.reason == "UNAUTHENTICATED"
    with ConversationClient(tls_auth_server.target, ca_certificates=certs.ca, bearer_token="not-a-token",
                            **NO_RETRY) as stranger:
        error = _refused(stranger)
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED and error.reason == "INVALID_TOKEN"
    assert "not-a-token" not in str(error)


def test_a_client_that_does_not_trust_the_server_refuses_it(tls_auth_server, certs):
    for settings in ({"ca_certificates": certs.other_ca}, {"tls": True}, {}):  # other CA, system roots, plaintext
        with ConversationClient(f"localhost:{tls_auth_server.port}", bearer_token=ALICE, **settings,
                                **NO_RETRY) as client:
            assert _refused(client).code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.INTERNAL)


def test_mutual_tls(mutual_tls_server, certs):
    address = f"localhost:{mutual_tls_server.port}"
    with ConversationClient(address, ca_certificates=certs.ca, client_certificate=certs.client_cert,
                            client_key=certs.client_key, **NO_RETRY) as agent:
        assert agent.append("m", ['{"mutual":true}']).created
    for settings in ({}, {"client_certificate": certs.other_client_cert, "client_key": certs.other_client_key}):
        with ConversationClient(address, ca_certificates=certs.ca, **settings, **NO_RETRY) as refused:
            assert _refused(refused).code() == grpc.StatusCode.UNAVAILABLE


def test_a_bearer_token_over_plaintext(plaintext_auth_server):
    with ConversationClient(plaintext_auth_server.target, bearer_token=ALICE) as alice:
        assert alice.save("p", ['{"plain":true}']).created
        # The generated stub carries the token too.
        from vmpilot_conversation_store.stubs import pb

        assert alice.stub.Get(pb.GetRequest(thread_id="p"), timeout=10).conversation.messages[0].json \
            == '{"plain":true}'
    with ConversationClient(plaintext_auth_server.target, **NO_RETRY) as anonymous:
        assert _refused(anonymous).code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.asyncio
async def test_the_async_client_over_tls_with_a_token(tls_auth_server, certs):
    async with AsyncConversationClient(tls_auth_server.target, ca_certificates=certs.ca,
                                       bearer_token=ALICE) as alice:
        assert (await alice.save("async-tls", ['{"a":1}'])).created
        assert (await alice.get("async-tls")).messages[0].json == '{"a":1}'
    async with AsyncConversationClient(tls_auth_server.target, ca_certificates=certs.ca, max_attempts=1) as anon:
        with pytest.raises(ConversationStoreError) as raised:
            await anon.get("async-tls")
        assert raised.value.reason == "UNAUTHENTICATED"


def test_the_drop_in_takes_tls_and_token_from_the_environment(tls_auth_server, certs, clean_environment, address):
    clean_environment.setenv("VMPILOT_STORE_ADDRESS", tls_auth_server.target)
    clean_environment.setenv("VMPILOT_STORE_CA_CERT", str(certs.ca))
    clean_environment.setenv("VMPILOT_STORE_TOKEN", BOB)
    vmpilot.configure()
    try:
        vmpilot.save_conversation_state("drop-in-tls", [{"role": "user", "content": "secure"}], {"n": 1})
        assert vmpilot.get_conversation_state("drop-in-tls") == ([{"role": "user", "content": "secure"}], {"n": 1})
        clean_environment.delenv("VMPILOT_STORE_TOKEN")
        vmpilot.configure()
        with pytest.raises(ConversationStoreError) as raised:
            vmpilot.get_conversation_state("drop-in-tls")  # never ([], {}): the agent must not start over
        assert raised.value.code() == grpc.StatusCode.UNAUTHENTICATED
    finally:
        vmpilot.configure(address)


def test_the_token_goes_with_streaming_calls_too(plaintext_auth_server):
    """Watch and Export stream their responses and Import its requests: each carries the token as well."""
    with ConversationClient(plaintext_auth_server.target, bearer_token=ALICE, **NO_RETRY) as alice:
        version = alice.append("streamed", ['{"n":1}']).version
        with alice.watch("streamed", start_version=version - 1) as watch:
            assert next(watch).version == version
        records = list(alice.export(thread_ids=["streamed"]))
        assert [r.thread_id for r in records] == ["streamed"]
    with ConversationClient(plaintext_auth_server.target, bearer_token=BOB, **NO_RETRY) as bob:
        assert bob.import_conversations(records).imported == 1
        assert bob.get("streamed").messages[0].json == '{"n":1}'
    with ConversationClient(plaintext_auth_server.target, **NO_RETRY) as anonymous:
        with pytest.raises(ConversationStoreError) as refused:
            next(anonymous.watch())
        assert refused.value.reason == "UNAUTHENTICATED"
