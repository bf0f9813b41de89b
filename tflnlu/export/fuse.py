"""The `--lookup=custom` lowering: one fused TFLNLU_CODEBOOK_LOOKUP op instead of the builtin chain.

Both lowerings come from one conversion: the builtin file is converted first, then this
rewrite replaces the ops that turn (ids, packed codes) into codebook rows -- GATHER, CAST,
ADD, [GATHER nibbles, RESHAPE, CAST, ADD], GATHER codebook -- by one CUSTOM op reading the
same constant tensors, so the two files can be diffed numerically. LiteRT's CompiledModel
hands constants to a custom kernel only when they sit 64-byte aligned in the file, so the
constants are moved behind the flatbuffer at aligned offsets (the schema's offset/size
buffers).
"""

from __future__ import annotations

import struct

import numpy as np
from ai_edge_litert import schema_py_generated as schema

from tflnlu.export.flatbuffer import pack_model
from tflnlu.export.kernel import CUSTOM_OP_NAME

ALIGNMENT = 64  # LITERT_HOST_MEMORY_BUFFER_ALIGNMENT
OPTIONS_FORMAT = 1  # custom_options: little-endian int32 [format, bits, num_groups, num_codes]
_GATHER, _ADD, _CUSTOM = (
    schema.BuiltinOperator.GATHER,
    schema.BuiltinOperator.ADD,
    schema.BuiltinOperator.CUSTOM,
)


def custom_options(bits: int, num_groups: int, num_codes: int) -> bytes:
    return struct.pack("<4i", OPTIONS_FORMAT, bits, num_groups, num_codes)


def _builtin(model, op) -> int:
    code = model.operatorCodes[op.opcodeIndex]
    return max(code.builtinCode, code.deprecatedBuiltinCode)


def _name(subgraph, index: int) -> str:
    return subgraph.tensors[index].name.decode("utf-8", "replace")


def fuse_lookup(model_bytes: bytes, bits: int, num_groups: int, num_codes: int) -> bytes:
    """Rewrite a converted builtin-lookup model (converter tensor names intact); constants stay
    inline, `align_constants` is applied once the file is otherwise final."""
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    subgraph = model.subgraphs[0]
    producer = {int(t): i for i, op in enumerate(subgraph.operators) for t in op.outputs}
    codes = next(i for i, t in enumerate(subgraph.tensors) if t.name.decode().endswith("embedding/codes"))
    lookup = max(  # the last gather fed by an ADD: the codebook rows (an earlier one unpacks nibbles)
        i
        for i, op in enumerate(subgraph.operators)
        if _builtin(model, op) == _GATHER
        and int(op.inputs[1]) in producer
        and _builtin(model, subgraph.operators[producer[int(op.inputs[1])]]) == _ADD
        and "/embedding/" in _name(subgraph, int(op.outputs[0]))
    )
    chain = _ancestors(subgraph, producer, lookup)
    ids = int(subgraph.inputs[0])
    codebook = int(subgraph.operators[lookup].inputs[0])
    fused = schema.OperatorT()
    fused.opcodeIndex = _custom_opcode(model)
    fused.inputs = [ids, codes, codebook]
    fused.outputs = [int(subgraph.operators[lookup].outputs[0])]
    fused.customOptions = list(custom_options(bits, num_groups, num_codes))
    fused.customOptionsFormat = schema.CustomOptionsFormat.FLEXBUFFERS  # the only value; bytes are raw
    first = min(chain)
    subgraph.operators = (
        [op for i, op in enumerate(subgraph.operators) if i < first and i not in chain]
        + [fused]
        + [op for i, op in enumerate(subgraph.operators) if i > first and i not in chain]
    )
    _drop_unused_constants(model)
    return pack_model(model)


def align_constants(model_bytes: bytes) -> bytes:
    """The last step of a custom-op export: constants behind the flatbuffer, 64-byte aligned."""
    return _pack_aligned(schema.ModelT.InitFromPackedBuf(model_bytes, 0))


def _ancestors(subgraph, producer: dict[int, int], op_index: int) -> set[int]:
    """The op and every op it depends on through non-constant tensors (the lookup chain)."""
    found, stack = set(), [op_index]
    while stack:
        index = stack.pop()
        if index in found:
            continue
        found.add(index)
        stack += [producer[int(t)] for t in subgraph.operators[index].inputs if int(t) in producer]
    return found


def _custom_opcode(model) -> int:
    code = schema.OperatorCodeT()
    code.builtinCode = code.deprecatedBuiltinCode = _CUSTOM
    code.customCode = CUSTOM_OP_NAME
    code.version = 1  # LiteRT resolves custom kernels as version 1 only
    model.operatorCodes.append(code)
    return len(model.operatorCodes) - 1


def _drop_unused_constants(model) -> None:
    used = {
        int(t) for sg in model.subgraphs for op in sg.operators for t in [*op.inputs, *op.outputs] if t >= 0
    }
    for subgraph in model.subgraphs:
        for index, tensor in enumerate(subgraph.tensors):
            if index not in used and tensor.buffer:
                model.buffers[tensor.buffer].data = None


def _pack_aligned(model) -> bytes:
    """Pack with every tensor constant moved behind the flatbuffer, each at a 64-byte offset."""
    constant_buffers = sorted({t.buffer for sg in model.subgraphs for t in sg.tensors if t.buffer})
    payloads = {}
    for index in constant_buffers:
        buffer = model.buffers[index]
        if buffer.data is not None and len(buffer.data):
            payloads[index] = np.asarray(buffer.data, dtype=np.uint8).tobytes()
            buffer.data, buffer.offset, buffer.size = None, 1, len(payloads[index])  # placeholder offset
    head = pack_model(model)
    position, layout = _align(len(head)), {}
    for index, data in payloads.items():
        layout[index] = position
        position = _align(position + len(data))
    for index, offset in layout.items():
        model.buffers[index].offset = offset
    head = pack_model(model)
    if _align(len(head)) != min(layout.values(), default=_align(len(head))):
        raise RuntimeError("the flatbuffer changed size while its buffer offsets were set")
    out = bytearray(head)
    for index, offset in layout.items():
        out += b"\0" * (offset - len(out)) + payloads[index]
    return bytes(out)


def _align(n: int) -> int:
    return -(-n // ALIGNMENT) * ALIGNMENT
