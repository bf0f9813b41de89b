"""Names the model file's writer and its readers must agree on, defined once.

The converter carries a Keras layer's name into the names of the tensors it makes, so the
embedding layer's name and the names its export form gives its constants are how the size
report and the custom-op rewrite find the lookup's pieces in a .tflite: `LOOKUP_CONSTANTS` is
that layout, declared here and used by `CodebookLookup` to name what it creates.
"""

from __future__ import annotations

# The serving signature of every export: int32 ids in, int8 logits out.
SIGNATURE_INPUT = "ids"
SIGNATURE_OUTPUTS = ("intent", "slots")

# Keras layer names that reach the file's tensor names.
EMBEDDING_LAYER = "embedding"
SUBWORD_LAYER = "subword_embedding"  # the n-gram bucket table of a model with subwords
# The layers that compute the logits (their weights stay 8-bit in an int4 export), and the
# heads' layers in all (the size report's "heads").
LOGIT_LAYERS = ("intent", "domain", "slot_logits")
HEAD_LAYERS = (*LOGIT_LAYERS, "slot_context")

# The export form's constant tensors (tf.constant names inside the embedding layer) and the
# size-report component each belongs to. The codebook (or the whole table) is the layer's weight.
CODES = "codes"
UNPACK_TABLE = "nibbles"
GROUP_OFFSETS = "offsets"
CODE_BIAS = "code_bias"
ROW_SCALES = "row_scales"
LOOKUP_CONSTANTS = {
    CODES: "embedding codes",
    UNPACK_TABLE: "embedding unpack table",
    GROUP_OFFSETS: "embedding lookup constants",
    CODE_BIAS: "embedding lookup constants",
    ROW_SCALES: "embedding row scales",
}
