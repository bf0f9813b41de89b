"""Size report and budget check of an exported .tflite, from the flatbuffer itself.

Constant tensors are grouped into components by the Keras layer that made them (the
converter keeps layer names in tensor names; `names.LOOKUP_CONSTANTS` is the embedding's
declared layout): embedding codes, codebook (or the whole table), encoder, heads;
`overhead` is everything else in the file (graph, metadata, padding).
"""

from __future__ import annotations

from tflnlu.modelfile.flatbuffer import ModelInfo
from tflnlu.modelfile.names import EMBEDDING_LAYER, HEAD_LAYERS, LOOKUP_CONSTANTS, SUBWORD_LAYER

EMBEDDING_VALUES = "embedding values"  # the codebook when there are codes, else the whole table
# The n-gram table's components are the word table's, named "subword ..." instead.
TABLES = {EMBEDDING_LAYER: "embedding", SUBWORD_LAYER: "subword"}
TFMOT_PREFIX = "quant_"  # tfmot renames a wrapped layer `quant_<name>`


class BudgetExceeded(RuntimeError):
    pass


_TABLE_COMPONENTS = (
    EMBEDDING_VALUES,
    *dict.fromkeys(LOOKUP_CONSTANTS.values()),
    "embedding codebook",
    "embedding table",
)
COMPONENTS = (
    *_TABLE_COMPONENTS,
    *(name.replace("embedding", TABLES[SUBWORD_LAYER], 1) for name in _TABLE_COMPONENTS),
    "heads",
    "encoder",
    "other constants",
)


def component_of(tensor_name: str) -> str:
    """The component of a constant tensor, from its converter name or its shortened name."""
    short = tensor_name.split("/")[0].replace("_", " ")
    if short in COMPONENTS:
        return short
    parts = [p.removeprefix(TFMOT_PREFIX) for p in tensor_name.split(";")[0].split("/")]
    for layer, table in TABLES.items():
        if layer in parts:
            inside = parts[parts.index(layer) + 1 :]
            name = next((LOOKUP_CONSTANTS[p] for p in inside if p in LOOKUP_CONSTANTS), EMBEDDING_VALUES)
            return name.replace("embedding", table, 1)
    if any(part in HEAD_LAYERS for part in parts):
        return "heads"
    if len(parts) > 1:
        return "encoder"
    return "other constants"


def size_report(info: ModelInfo) -> dict:
    components: dict[str, int] = {}
    for tensor in info.tensors:
        if tensor.constant_bytes:
            key = component_of(tensor.name)
            components[key] = components.get(key, 0) + tensor.constant_bytes
    for table in TABLES.values():
        values = EMBEDDING_VALUES.replace("embedding", table, 1)
        if values in components:
            name = f"{table} codebook" if f"{table} codes" in components else f"{table} table"
            components[name] = components.pop(values)
    components["overhead"] = info.file_bytes - info.constant_bytes
    return {
        "file_bytes": info.file_bytes,
        "components": dict(sorted(components.items(), key=lambda kv: -kv[1])),
        "operators": dict(info.operators),
    }


def format_report(report: dict) -> str:
    lines = [f"{report['file_bytes']:>10,} bytes  whole file"]
    for name, size in report["components"].items():
        share = 100 * size / report["file_bytes"] if report["file_bytes"] else 0
        lines.append(f"{size:>10,} bytes  {name} ({share:.1f}%)")
    return "\n".join(lines)


def check_budget(report: dict, max_bytes: int | None, source: str = "model") -> None:
    """Raise BudgetExceeded naming the budget, the size and the largest components."""
    if max_bytes is None or report["file_bytes"] <= max_bytes:
        return
    largest = ", ".join(f"{name} {size:,} B" for name, size in list(report["components"].items())[:3])
    raise BudgetExceeded(
        f"{source} is {report['file_bytes']:,} bytes, over the budget of {max_bytes:,} bytes by "
        f"{report['file_bytes'] - max_bytes:,}; largest components: {largest}"
    )


def overhead_report(model_bytes: bytes) -> dict[str, int]:
    """Where the bytes that are not constants go, measured exactly: the model repacked with one
    part of its tables emptied at a time (tensor names, shapes, quantization parameters, the
    signature, the metadata), the difference being that part's bytes; what is left is the
    operators' and tensors' own tables, vtables and alignment padding."""
    from ai_edge_litert import schema_py_generated as schema

    from tflnlu.modelfile.flatbuffer import pack_model

    def packed(strip=None) -> int:
        model = schema.ModelT.InitFromPackedBuf(model_bytes, 0)
        for buffer in model.buffers or []:
            buffer.data, buffer.offset, buffer.size = None, 0, 0  # constants are counted elsewhere
        if strip:
            strip(model)
        return len(pack_model(model))

    def tensors(model):
        return [t for sg in model.subgraphs for t in sg.tensors or []]

    def names(model):
        for tensor in tensors(model):
            tensor.name = None

    def shapes(model):
        for tensor in tensors(model):
            tensor.shape, tensor.shapeSignature = None, None

    def quantization(model):
        for tensor in tensors(model):
            tensor.quantization = None

    def signature(model):
        model.signatureDefs = None

    def metadata(model):
        model.metadata = None

    base = packed()
    parts = {
        "tensor names": names,
        "tensor shapes": shapes,
        "quantization parameters": quantization,
        "signature": signature,
        "metadata entries (table)": metadata,
    }
    report = {name: base - packed(strip) for name, strip in parts.items()}
    report["operators, tensors and buffers (tables, vtables, padding)"] = base - sum(report.values())
    return report
