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

from ai_edge_litert import schema_py_generated as schema

from tflnlu.modelfile.flatbuffer import pack_model
from tflnlu.modelfile.kernel import CUSTOM_OP_NAME
from tflnlu.modelfile.names import CODES, EMBEDDING_LAYER, LOOKUP_CONSTANTS
from tflnlu.modelfile.size import component_of

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
    inline, `tflnlu.modelfile.align.align_constants` is applied once the file is otherwise final."""
    model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
    subgraph = model.subgraphs[0]
    producer = {int(t): i for i, op in enumerate(subgraph.operators) for t in op.outputs}
    codes = next(
        i for i, t in enumerate(subgraph.tensors) if component_of(t.name.decode()) == LOOKUP_CONSTANTS[CODES]
    )
    lookup = max(  # the last gather fed by an ADD: the codebook rows (an earlier one unpacks nibbles)
        i
        for i, op in enumerate(subgraph.operators)
        if _builtin(model, op) == _GATHER
        and int(op.inputs[1]) in producer
        and _builtin(model, subgraph.operators[producer[int(op.inputs[1])]]) == _ADD
        and EMBEDDING_LAYER in _name(subgraph, int(op.outputs[0])).split("/")
    )
    chain = _ancestors(subgraph, producer, lookup)
    # The ids are what the chain's gather of the codes reads: the model's input, or (a model
    # with subwords) a slice of it that the padding mask reads too, so its producers stay.
    ids = next(
        int(op.inputs[1])
        for i, op in enumerate(subgraph.operators)
        if i in chain and int(op.inputs[0]) == codes
    )
    if ids in producer:
        chain -= _ancestors(subgraph, producer, producer[ids])
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
