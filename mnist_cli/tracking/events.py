"""TensorBoard event records in pure Python: no TensorFlow, no tensorboard package.

An event file is a TFRecord file (per record: little-endian uint64 length, masked CRC-32C of
it, the bytes, masked CRC-32C of them) of serialized `Event` protos. The few messages a run
writes (`Event`, `Summary`, `Summary.Value`, `SummaryMetadata`, a scalar `TensorProto`) are
encoded here field by field in proto3 wire format, byte for byte what TensorFlow's generated
classes give (tests/test_tensorboard.py compares them), so a JAX run writes TensorBoard
files without importing TensorFlow, and a TensorFlow run skips the eager proto overhead.
"""

from __future__ import annotations

import struct

DT_FLOAT, DT_STRING = 1, 7
DATA_CLASS = {"scalars": 1, "text": 2}  # SummaryMetadata.DataClass: SCALAR, TENSOR
_CRC_TABLE: list[int] = []


def _crc_table() -> list[int]:
    if not _CRC_TABLE:
        for byte in range(256):
            crc = byte
            for _ in range(8):
                crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
            _CRC_TABLE.append(crc)
    return _CRC_TABLE


def crc32c(data: bytes) -> int:
    """CRC-32C (Castagnoli), the checksum TFRecord uses."""
    table, crc = _crc_table(), 0xFFFFFFFF
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def masked_crc(data: bytes) -> int:
    crc = crc32c(data)
    return (((crc >> 15) | (crc << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def record(data: bytes) -> bytes:
    """One TFRecord: length, its masked CRC, the data, its masked CRC."""
    length = struct.pack("<Q", len(data))
    return (length + struct.pack("<I", masked_crc(length)) + data
            + struct.pack("<I", masked_crc(data)))


def varint(value: int) -> bytes:
    value &= (1 << 64) - 1  # negative int64s are ten-byte two's complement, as protobuf does
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        out.append(low | (0x80 if value else 0))
        if not value:
            return bytes(out)


def field_bytes(number: int, payload: bytes) -> bytes:
    """A length-delimited field (string, bytes, embedded message)."""
    return varint(number << 3 | 2) + varint(len(payload)) + payload


def field_varint(number: int, value: int) -> bytes:
    return varint(number << 3) + varint(value) if value else b""  # proto3: 0 is omitted


def scalar_tensor(value: float) -> bytes:
    """TensorProto{dtype: DT_FLOAT, tensor_shape: {}, float_val: [value]}."""
    return (field_varint(1, DT_FLOAT) + field_bytes(2, b"")
            + field_bytes(5, struct.pack("<f", value)))


def text_tensor(text: str) -> bytes:
    """TensorProto{dtype: DT_STRING, tensor_shape: {}, string_val: [text]}."""
    return field_varint(1, DT_STRING) + field_bytes(2, b"") + field_bytes(8, text.encode())


def metadata(plugin: str) -> bytes:
    """SummaryMetadata naming the plugin (`scalars` or `text`) and its data class."""
    return (field_bytes(1, field_bytes(1, plugin.encode()))
            + field_varint(4, DATA_CLASS[plugin]))


def summary_value(tag: str, value: float | str, plugin: str = "scalars") -> bytes:
    """A Summary holding one Summary.Value (tag, tensor, metadata)."""
    tensor = scalar_tensor(float(value)) if plugin == "scalars" else text_tensor(str(value))
    body = field_bytes(1, tag.encode()) + field_bytes(8, tensor) + field_bytes(9, metadata(plugin))
    return field_bytes(1, body)


def event(wall_time: float, step: int = 0, file_version: str | None = None,
          summary: bytes | None = None) -> bytes:
    """A serialized Event: wall_time, step, then file_version or a summary."""
    out = (b"\x09" + struct.pack("<d", wall_time)) if wall_time else b""
    out += field_varint(2, step)
    if file_version is not None:
        out += field_bytes(3, file_version.encode())
    if summary is not None:
        out += field_bytes(5, summary)
    return out
