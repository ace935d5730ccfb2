"""Field ids of the `e6x_vector.thrift` structs and the Data union member each vector type uses."""
from __future__ import annotations

from typing import Any

from e6magic.wire.thrift_binary import BOOL, BYTE, DOUBLE, I32, I64, LIST, STRING
from e6magic.wire.types import TEXT_TYPES, VectorType

# Data union member ids (wire §1.6) and the fields of each member struct: id -> (ttype, element type).
BOOL_DATA, INT32_DATA, INT64_DATA, DATE_DATA = 1, 2, 3, 4
FLOAT32_DATA, FLOAT64_DATA, VARCHAR_DATA = 5, 6, 7
BOOL_CONST, DATE_CONST, NULL_CONST, NUMERIC_CONST, NUMERIC_DECIMAL_CONST = 8, 9, 10, 11, 12
INTERVAL_CONST, TIME_CONST, VARCHAR_CONST, TIME_DATA, DECIMAL128_DATA, DECIMAL128_CONST = (
    13, 14, 15, 16, 17, 18,
)
MEMBER_FIELDS: dict[int, dict[int, tuple[int, Any]]] = {
    BOOL_DATA: {1: (LIST, BOOL)},
    INT32_DATA: {1: (LIST, I32)},
    INT64_DATA: {1: (LIST, I64)},
    DATE_DATA: {1: (LIST, I64)},
    FLOAT32_DATA: {1: (LIST, DOUBLE)},
    FLOAT64_DATA: {1: (LIST, DOUBLE)},
    VARCHAR_DATA: {1: (LIST, STRING)},
    BOOL_CONST: {1: (BOOL, None)},
    DATE_CONST: {1: (I64, None)},
    NULL_CONST: {1: (BYTE, None)},
    NUMERIC_CONST: {1: (I64, None)},
    NUMERIC_DECIMAL_CONST: {1: (DOUBLE, None)},
    INTERVAL_CONST: {1: (BYTE, None)},
    TIME_CONST: {1: (I64, None), 2: (STRING, None)},
    VARCHAR_CONST: {1: (STRING, None)},
    TIME_DATA: {1: (LIST, I64), 2: (LIST, STRING)},
    DECIMAL128_DATA: {1: (LIST, STRING), 2: (I32, None)},
    DECIMAL128_CONST: {1: (STRING, None), 2: (I32, None)},
}
MEMBER_NAMES = {
    BOOL_DATA: "boolData", INT32_DATA: "int32Data", INT64_DATA: "int64Data", DATE_DATA: "dateData",
    FLOAT32_DATA: "float32Data", FLOAT64_DATA: "float64Data", VARCHAR_DATA: "varcharData",
    BOOL_CONST: "boolConstantData", DATE_CONST: "dateConstantData", NUMERIC_CONST: "numericConstantData",
    NUMERIC_DECIMAL_CONST: "numericDecimalConstantData", TIME_CONST: "timeConstantData",
    VARCHAR_CONST: "varcharConstantData", TIME_DATA: "timeData", DECIMAL128_DATA: "decimal128Data",
    DECIMAL128_CONST: "numericDecimal128ConstantData",
}
# vector type -> (list member, constant member) per wire §3.3.
MEMBERS: dict[VectorType, tuple[int, int]] = {
    VectorType.LONG: (INT64_DATA, NUMERIC_CONST),
    VectorType.INTEGER: (INT32_DATA, NUMERIC_CONST),
    VectorType.INTERVAL_DAY_SECOND: (INT64_DATA, NUMERIC_CONST),
    VectorType.DOUBLE: (FLOAT64_DATA, NUMERIC_DECIMAL_CONST),
    VectorType.FLOAT: (FLOAT32_DATA, NUMERIC_DECIMAL_CONST),
    VectorType.BOOLEAN: (BOOL_DATA, BOOL_CONST),
    VectorType.DATE: (DATE_DATA, DATE_CONST),
    VectorType.DATETIME: (TIME_DATA, TIME_CONST),
    VectorType.TIMESTAMP_TZ: (TIME_DATA, TIME_CONST),
    VectorType.DECIMAL128: (DECIMAL128_DATA, DECIMAL128_CONST),
    **{t: (VARCHAR_DATA, VARCHAR_CONST) for t in TEXT_TYPES},
}
# Chunk and Vector field ids (wire §1.6).
CHUNK_SIZE, CHUNK_VECTORS = 1, 2
VECTOR_SIZE, VECTOR_TYPE, VECTOR_NULL_SET, VECTOR_DATA, VECTOR_IS_CONSTANT = 1, 2, 3, 4, 5
VECTOR_ZONE_OFFSET, VECTOR_FORMAT = 6, 7
