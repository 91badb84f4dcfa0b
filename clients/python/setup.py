"""Build hook: generates the gRPC stubs from the repository's proto/ into the package while it is built.

The stubs are never committed, so they always match the contract they were built from. grpcio-tools' protoc
reads proto/vmpilot/**.proto (and the googleapis protos they import from third_party/googleapis); the modules
for google/rpc/* and google/protobuf/* come at run time from googleapis-common-protos and protobuf.

protoc writes `from vmpilot.conversation.v1 import ...`; those imports are rewritten to the package's own
`vmpilot_conversation_store._generated.vmpilot...`, because a top-level `vmpilot` package would shadow (or be
shadowed by) VMPilot's own `vmpilot` package, the very program the drop-in is for.

Builds from a checkout of the repository (pip install ./clients/python, pip wheel, an editable install); an
sdist alone has no proto/ to build from.
"""

import importlib.resources
import re
import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
PROTO_ROOT = REPOSITORY / "proto"
GOOGLEAPIS = REPOSITORY / "third_party" / "googleapis"
CONTRACT_DIR = "vmpilot"  # under PROTO_ROOT: the contract's own .proto files
PACKAGE = "vmpilot_conversation_store"
GENERATED = "_generated"

_PROTOC_IMPORT = re.compile(r"^from vmpilot(\.| import )", re.MULTILINE)
_REWRITTEN_PREFIX = f"from {PACKAGE}.{GENERATED}.vmpilot"


def generate_stubs(package_dir: Path) -> None:
    """Writes PACKAGE/_generated (the *_pb2.py, *_pb2.pyi and *_pb2_grpc.py modules) under package_dir."""
    from grpc_tools import protoc  # a build requirement (pyproject.toml), so imported only when building

    protos = sorted(p.relative_to(PROTO_ROOT).as_posix() for p in (PROTO_ROOT / CONTRACT_DIR).rglob("*.proto"))
    if not protos:
        raise SystemExit(f"no .proto files under {PROTO_ROOT / CONTRACT_DIR}: the package builds from a "
                         "checkout of the repository (pip install ./clients/python)")
    out = package_dir / GENERATED
    tmp = out.with_name(GENERATED + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    well_known = importlib.resources.files("grpc_tools") / "_proto"  # google/protobuf/*.proto
    status = protoc.main([
        "grpc_tools.protoc", f"-I{PROTO_ROOT}", f"-I{GOOGLEAPIS}", f"-I{well_known}",
        f"--python_out={tmp}", f"--pyi_out={tmp}", f"--grpc_python_out={tmp}", *protos])
    if status != 0:
        raise SystemExit(f"protoc failed (exit {status}) on {', '.join(protos)}")
    for module in [*tmp.rglob("*.py"), *tmp.rglob("*.pyi")]:
        module.write_text(_rewrite_imports(module.read_text(encoding="utf-8"), module), encoding="utf-8")
    for directory in [tmp, *(d for d in tmp.rglob("*") if d.is_dir())]:
        init = directory / "__init__.py"
        if not init.exists():
            init.write_text('"""Generated from proto/ when the package was built; do not edit."""\n')
    shutil.rmtree(out, ignore_errors=True)
    tmp.rename(out)


def _rewrite_imports(text: str, module: Path) -> str:
    rewritten = _PROTOC_IMPORT.sub(lambda m: _REWRITTEN_PREFIX + m.group(1), text)
    if re.search(r"^\s*import vmpilot\b", rewritten, re.MULTILINE):
        raise SystemExit(f"{module}: an import of the top-level vmpilot package that the build cannot rewrite")
    return rewritten


class BuildPyWithStubs(build_py):
    """build_py, then the stubs: into the build directory, or into src/ for an editable install."""

    def run(self) -> None:
        super().run()
        root = HERE / "src" if getattr(self, "editable_mode", False) else Path(self.build_lib)
        generate_stubs(root / PACKAGE)


setup(cmdclass={"build_py": BuildPyWithStubs})
