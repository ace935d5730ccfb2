"""The generated stubs match protos/, and protos/ matches the engine's published 3.0.2 descriptors."""
from __future__ import annotations

import json
import pathlib

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.descriptor import FieldDescriptor

from e6magic._proto import cluster_pb2, e6x_engine_pb2

ROOT = pathlib.Path(__file__).resolve().parent.parent
PROTOS = ROOT / "protos"
STUBS = {"e6x_engine.proto": e6x_engine_pb2, "cluster.proto": cluster_pb2}
PUBLISHED = json.loads((PROTOS / "e6data-descriptors-3.0.2.json").read_text())

_TYPE_NAMES = {
    FieldDescriptor.TYPE_STRING: "string", FieldDescriptor.TYPE_BYTES: "bytes", FieldDescriptor.TYPE_BOOL: "bool",
    FieldDescriptor.TYPE_INT32: "int32", FieldDescriptor.TYPE_INT64: "int64", FieldDescriptor.TYPE_SINT32: "sint32",
    FieldDescriptor.TYPE_SINT64: "sint64",
}


def _compile(name: str, tmp_path: pathlib.Path) -> descriptor_pb2.FileDescriptorProto:
    from grpc_tools import protoc

    out = tmp_path / f"{name}.pb"
    assert protoc.main(["protoc", f"-I{PROTOS}", f"--descriptor_set_out={out}", str(PROTOS / name)]) == 0
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    (fdp,) = [f for f in fds.file if f.name == name]
    _clear_json_names(fdp.message_type)  # protoc adds them to descriptor sets; gencode strips them
    return fdp


def _clear_json_names(messages) -> None:
    for msg in messages:
        for field in msg.field:
            field.ClearField("json_name")
        _clear_json_names(msg.nested_type)


@pytest.mark.parametrize("name", sorted(STUBS))
def test_stubs_are_generated_from_the_protos(name, tmp_path):
    embedded = descriptor_pb2.FileDescriptorProto.FromString(STUBS[name].DESCRIPTOR.serialized_pb)
    assert embedded == _compile(name, tmp_path), (
        f"e6magic/_proto stubs for {name} drifted from protos/; run `python -m e6magic._proto.regenerate`"
    )


def _field_type(field) -> str:
    if field.message_type is not None:
        entry = field.message_type
        return entry.full_name
    if field.enum_type is not None:
        return field.enum_type.full_name
    return _TYPE_NAMES[field.type]


def _label(field) -> str:
    if field.message_type is not None and field.message_type.GetOptions().map_entry:
        return "repeated"
    if field.is_repeated if hasattr(field, "is_repeated") else field.label == FieldDescriptor.LABEL_REPEATED:
        return "repeated"
    return "optional" if field.has_presence and field.containing_oneof is not None else ""


def _messages(container, prefix=""):
    for msg in container.message_types_by_name.values() if prefix == "" else container.nested_types:
        yield msg
        yield from _messages(msg, prefix=msg.full_name)


@pytest.mark.parametrize("published", PUBLISHED["files"], ids=lambda f: f["file"])
def test_protos_match_the_published_descriptors(published):
    module = STUBS[published["file"]]
    ours = {m.full_name: m for m in _messages(module.DESCRIPTOR)}
    assert sorted(ours) == sorted(m["message"] for m in published["messages"])
    for spec in published["messages"]:
        msg = ours[spec["message"]]
        got = [(f.name, f.number, _field_type(f), _label(f)) for f in msg.fields]
        want = [(f["name"], f["number"], f["type"], f.get("label") or ("" if spec.get("map_entry") else ""))
                for f in spec["fields"]]
        if spec.get("map_entry"):
            got = [g[:3] + ("",) for g in got]
        assert got == want, spec["message"]
    for service in published["services"]:
        desc = module.DESCRIPTOR.services_by_name[service["service"]]
        got = [(m.name, m.input_type.full_name, m.output_type.full_name) for m in desc.methods]
        assert got == [(m["name"], m["input"], m["output"]) for m in service["methods"]]
    assert module.DESCRIPTOR.package == published["package"] == ""
