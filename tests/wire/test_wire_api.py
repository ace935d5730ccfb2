"""The wire package exports exactly the contract in docs/architecture.md, with those signatures."""
from __future__ import annotations

import inspect

import e6magic.wire as wire

CONTRACT = {
    "encode_metadata": ["meta"],
    "decode_metadata": ["data"],
    "encode_chunk": ["batch", "vector_types"],
    "decode_chunk": ["data", "meta"],
    "vector_type_for": ["arrow_type"],
    "arrow_schema": ["meta"],
    "metadata_for": ["schema", "row_count", "vector_types"],
}


def test_all_is_the_sorted_public_surface():
    public = sorted(name for name in vars(wire) if not name.startswith("_") and name[0].isalpha()
                    and not inspect.ismodule(getattr(wire, name)) and name != "annotations")
    assert wire.__all__ == public


def test_contract_functions_and_parameters():
    for name, params in CONTRACT.items():
        assert list(inspect.signature(getattr(wire, name)).parameters) == params, name


def test_contract_types():
    assert issubclass(wire.ChunkDecodeError, ValueError)
    assert [f for f in wire.Column.__dataclass_fields__] == ["name", "type_name", "zone", "date_format"]
    assert [f for f in wire.ResultMetadata.__dataclass_fields__] == ["row_count", "columns"]
    assert wire.VectorType.BINARY == 0 and wire.VectorType.INTERVAL_DAY_SECOND == 17
    assert len(wire.VectorType) == 18
