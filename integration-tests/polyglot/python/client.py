"""Example Python client of the VMPilot conversation store.

    python client.py ADDRESS

Stubs generated from proto/ by gen.sh (grpcio-tools). Does save, append, get, list, a version
conflict and clear, printing one line per step; exits non-zero on the first failure.
"""

import os
import sys
import time

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from vmpilot.conversation.v1 import conversation_service_pb2 as pb
from vmpilot.conversation.v1 import conversation_service_pb2_grpc as pb_grpc


def error_info(err: grpc.RpcError) -> error_details_pb2.ErrorInfo:
    """The google.rpc.ErrorInfo carried in a failed call's status details."""
    status = rpc_status.from_call(err)
    for detail in status.details if status else []:
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    raise AssertionError(f"no ErrorInfo in {err}")


def main(address: str) -> None:
    channel = grpc.insecure_channel(address)
    store = pb_grpc.ConversationServiceStub(channel)
    thread = f"python-example-{os.getpid()}-{time.time_ns()}"
    system = '{"role":"system","content":"You are a helpful assistant."}'
    user = '{"role":"user","content":"Hello from Python \\u00e9 🚀"}'
    assistant = '{"role":"assistant","content":"Hi!","n":9007199254740993}'

    # Save: creates the conversation with its whole history.
    saved = store.Save(pb.SaveRequest(
        thread_id=thread,
        messages=[pb.Message(json=system), pb.Message(json=user)],
        cache_info={"input_tokens": 10},
        metadata={"run": thread},
    ), timeout=30)
    assert saved.created and saved.message_count == 2 and saved.version > 0, saved
    print(f"save ok: version={saved.version} messages={saved.message_count}")

    # Append: adds one message; the id makes a retry harmless.
    appended = store.Append(pb.AppendRequest(
        thread_id=thread, messages=[pb.Message(id="m3", json=assistant)]), timeout=30)
    assert appended.appended_count == 1 and appended.message_count == 3, appended
    print(f"append ok: version={appended.version} messages={appended.message_count}")

    # Get: messages come back verbatim.
    conversation = store.Get(pb.GetRequest(thread_id=thread), timeout=30).conversation
    assert [m.json for m in conversation.messages] == [system, user, assistant], conversation
    assert conversation.messages[2].id == "m3" and conversation.version == appended.version
    assert dict(conversation.cache_info) == {"input_tokens": 10}, conversation.cache_info
    print(f"get ok: version={conversation.version} messages={len(conversation.messages)} "
          f"cache_info={dict(conversation.cache_info)}")

    # List, filtered by metadata.
    listed = store.List(pb.ListRequest(metadata_filter={"run": thread}), timeout=30)
    assert [c.thread_id for c in listed.conversations] == [thread], listed
    assert listed.conversations[0].message_count == 3, listed
    print(f"list ok: {thread} has {listed.conversations[0].message_count} messages")

    # Version conflict: a Save based on the stale version fails with ABORTED and an
    # ErrorInfo saying why and what the current version is.
    try:
        store.Save(pb.SaveRequest(thread_id=thread, messages=[pb.Message(json=system)],
                                  expected_version=saved.version), timeout=30)
        raise AssertionError("stale Save succeeded")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.ABORTED, err
        info = error_info(err)
        assert info.reason == "VERSION_MISMATCH" and info.domain == "conversation.vmpilot.io", info
        assert info.metadata["current_version"] == str(appended.version), info
        print(f"conflict ok: {err.code().name} {info.reason} "
              f"current_version={info.metadata['current_version']}")

    # Clear: deletes it; Get then says NOT_FOUND; clearing again is no error.
    assert store.Clear(pb.ClearRequest(thread_id=thread), timeout=30).deleted
    try:
        store.Get(pb.GetRequest(thread_id=thread), timeout=30)
        raise AssertionError("Get after Clear succeeded")
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.NOT_FOUND, err
    assert not store.Clear(pb.ClearRequest(thread_id=thread), timeout=30).deleted
    print("clear ok: deleted, then NOT_FOUND")
    channel.close()
    print("python client: all steps passed")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: client.py ADDRESS")
    try:
        main(sys.argv[1])
    except (AssertionError, grpc.RpcError) as failure:
        print(f"FAIL: {failure!r}", file=sys.stderr)
        sys.exit(1)
