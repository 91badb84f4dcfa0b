"""The package as installed from the repository: stubs generated from today's proto/, nothing else top-level."""

import importlib.metadata
import importlib.resources
import subprocess
import sys
from pathlib import Path

from google.protobuf import descriptor_pb2

import vmpilot_conversation_store
from store_server import REPOSITORY
from vmpilot_conversation_store.stubs import pb

PACKAGE_SOURCE = REPOSITORY / "clients" / "python" / "src"


def test_the_installed_package_is_tested_not_the_source_tree():
    installed = Path(vmpilot_conversation_store.__file__).resolve()
    assert PACKAGE_SOURCE not in installed.parents, installed


def test_the_distribution_installs_only_its_own_package():
    files = importlib.metadata.files("vmpilot-conversation-store")
    top_level = {f.parts[0] for f in files if not f.parts[0].endswith((".dist-info", ".egg-info"))}
    # No top-level `vmpilot` package: it would collide with VMPilot's own.
    assert top_level == {"vmpilot_conversation_store"}, top_level
    generated = {f.name for f in files if "_generated" in f.parts}
    assert {"conversation_service_pb2.py", "conversation_service_pb2.pyi",
            "conversation_service_pb2_grpc.py"} <= generated


def test_no_generated_stub_is_in_the_source_tree():
    committed = subprocess.run(["git", "ls-files", "clients/python"], cwd=REPOSITORY, check=True,
                               capture_output=True, text=True).stdout.split()
    assert not [f for f in committed if f.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))]


def test_the_stubs_were_generated_from_the_proto_files_as_they_are_now(tmp_path):
    """A stale install (proto/ changed since scripts/install-tools ran) fails here, not in a confusing way."""
    descriptor_set = tmp_path / "contract.pb"
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    subprocess.run([sys.executable, "-m", "grpc_tools.protoc", f"-I{REPOSITORY / 'proto'}",
                    f"-I{REPOSITORY / 'third_party' / 'googleapis'}", f"-I{well_known}",
                    f"--descriptor_set_out={descriptor_set}", "vmpilot/conversation/v1/conversation_service.proto"],
                   check=True, capture_output=True)
    fresh = descriptor_pb2.FileDescriptorSet.FromString(descriptor_set.read_bytes()).file[0]
    installed = descriptor_pb2.FileDescriptorProto.FromString(pb.DESCRIPTOR.serialized_pb)
    assert installed.message_type, installed
    # protoc fills in json_name for a descriptor set; the Python generator leaves it out of the stubs.
    for message in fresh.message_type:
        _clear_json_names(message)
    assert installed == fresh, "the installed stubs are stale: run scripts/install-tools"


def _clear_json_names(message: descriptor_pb2.DescriptorProto) -> None:
    for field in message.field:
        field.ClearField("json_name")
    for nested in message.nested_type:
        _clear_json_names(nested)
