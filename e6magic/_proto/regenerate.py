"""Regenerates the stubs in this folder from protos/ (needs grpcio-tools; run from the repo root).

The stubs are generated with grpcio-tools 1.65 (protobuf 5.26 gencode) on purpose: newer protobuf
runtimes accept older gencode, so users with protobuf 5.26 through 7.x can all import them.
"""
from __future__ import annotations

import pathlib
import re
import sys

HERE = pathlib.Path(__file__).parent
PROTOS = HERE.parent.parent / "protos"
FILES = ("e6x_engine.proto", "cluster.proto")


def main() -> int:
    from grpc_tools import protoc

    args = ["protoc", f"-I{PROTOS}", f"--python_out={HERE}", f"--pyi_out={HERE}", f"--grpc_python_out={HERE}"]
    if protoc.main(args + [str(PROTOS / f) for f in FILES]) != 0:
        return 1
    for grpc_file in HERE.glob("*_pb2_grpc.py"):
        # protoc writes top-level imports; the stubs live inside a package
        text = re.sub(r"^import (\w+_pb2) as", r"from . import \1 as", grpc_file.read_text(), flags=re.M)
        grpc_file.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
