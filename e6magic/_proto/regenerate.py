"""Regenerates the stubs in this folder from protos/ (needs grpcio-tools; run from the repo root).

The stubs are generated with grpcio-tools 1.65 (protobuf 5.26 gencode) on purpose: newer protobuf
runtimes accept older gencode, so users with protobuf 5.26 through 7.x can all import them.
Each `*_pb2.py` is then pointed at the package's private descriptor pool (`e6magic._proto.POOL`, see its
docstring), so the official connector's stubs can be imported into the same process.
"""
from __future__ import annotations

import pathlib
import re
import sys

HERE = pathlib.Path(__file__).parent
PROTOS = HERE.parent.parent / "protos"
FILES = ("e6x_engine.proto", "cluster.proto")
_DEFAULT_POOL = "_descriptor_pool.Default().AddSerializedFile("
_PRIVATE_POOL = "_POOL.AddSerializedFile("
_POOL_IMPORT = "from e6magic._proto import POOL as _POOL\n"


def private_pool(text: str) -> str:
    """A generated `*_pb2.py` text registering into `e6magic._proto.POOL` (idempotent)."""
    if _PRIVATE_POOL in text:
        return text
    if text.count(_DEFAULT_POOL) != 1:
        raise ValueError("generated stub does not add exactly one file to the default pool; protoc changed shape")
    anchor = "# @@protoc_insertion_point(imports)\n"
    return text.replace(_DEFAULT_POOL, _PRIVATE_POOL).replace(anchor, _POOL_IMPORT + anchor, 1)


def main() -> int:
    from grpc_tools import protoc

    args = ["protoc", f"-I{PROTOS}", f"--python_out={HERE}", f"--pyi_out={HERE}", f"--grpc_python_out={HERE}"]
    if protoc.main(args + [str(PROTOS / f) for f in FILES]) != 0:
        return 1
    for grpc_file in HERE.glob("*_pb2_grpc.py"):
        # protoc writes top-level imports; the stubs live inside a package
        text = re.sub(r"^import (\w+_pb2) as", r"from . import \1 as", grpc_file.read_text(), flags=re.MULTILINE)
        grpc_file.write_text(text)
    for pb2_file in HERE.glob("*_pb2.py"):
        pb2_file.write_text(private_pool(pb2_file.read_text()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
