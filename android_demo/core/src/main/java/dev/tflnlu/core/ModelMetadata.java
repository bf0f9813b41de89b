package dev.tflnlu.core;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * What a tflnlu .tflite carries besides the graph: vocabulary, intent / tag / domain labels,
 * tokenizer version and max length (docs/model_file.md). tflnlu-export stores them as zlib-compressed UTF-8 JSON in
 * the model's metadata entry named {@code tflnlu}; this class reads that entry straight from
 * the flatbuffer (a few table look-ups, no FlatBuffers library), so the model file alone is
 * enough to run it.
 */
public final class ModelMetadata {
  public static final String METADATA_NAME = "tflnlu";
  /** The vocabulary, front-coded (tflnlu/export/metadata.py, {@code front_code}). */
  static final String FRONT_CODED_VOCAB = "vocab_front_coded";
  /** Or the vocabulary without strings (tflnlu-export --vocabulary=hashed), see {@link HashedVocabulary}. */
  static final String HASHED_VOCAB = "vocab_hashed";
  /** A model with subwords: its n-gram settings; its input is [1, max_len, 1 + per_token]. */
  static final String SUBWORDS = "subwords";
  private static final int MAX_SHARED = 9;

  public final String tflnluVersion;
  public final int tokenizerVersion;
  public final int maxLen;
  /** The words in id order; empty for a hashed vocabulary, which stores none. */
  public final List<String> vocab;
  /** Token to id, from either form. */
  public final WordIds vocabulary;
  public final List<String> intents;
  public final List<String> tags;
  public final List<String> domains;
  /** The n-gram ids the model reads beside each word id, or null for a model without subwords. */
  public final Subwords subwords;

  ModelMetadata(Map<String, Object> json) {
    Map<String, Object> tokenizer = asMap(json.get("tokenizer"), "tokenizer");
    tflnluVersion = String.valueOf(json.get("tflnlu_version"));
    tokenizerVersion = asInt(tokenizer.get("version"), "tokenizer.version");
    maxLen = asInt(tokenizer.get("max_len"), "tokenizer.max_len");
    if (json.containsKey(HASHED_VOCAB)) {
      vocab = Collections.<String>emptyList();
      vocabulary = HashedVocabulary.fromJson(asMap(json.get(HASHED_VOCAB), HASHED_VOCAB));
    } else {
      vocab = frontDecode(asString(json.get(FRONT_CODED_VOCAB), FRONT_CODED_VOCAB));
      vocabulary = new Vocabulary(vocab);
    }
    intents = strings(json.get("intents"), "intents");
    tags = strings(json.get("tags"), "tags");
    domains = json.containsKey("domains") ? strings(json.get("domains"), "domains") : Collections.<String>emptyList();
    subwords = json.containsKey(SUBWORDS) ? subwords(asMap(json.get(SUBWORDS), SUBWORDS)) : null;
    if (tokenizerVersion != Tokenizer.VERSION) {
      throw new IllegalArgumentException(
          "the model needs tokenizer version " + tokenizerVersion + ", this code implements " + Tokenizer.VERSION);
    }
  }

  /** Parse the metadata JSON itself (as stored, once inflated). */
  public static ModelMetadata fromJson(String json) {
    return new ModelMetadata(asMap(Json.parse(json), "metadata"));
  }

  /** Read the metadata from a whole .tflite file's bytes. */
  public static ModelMetadata fromTflite(ByteBuffer model) {
    return fromJson(new String(inflate(metadataBytes(model.duplicate().order(ByteOrder.LITTLE_ENDIAN))), StandardCharsets.UTF_8));
  }

  // --- FlatBuffers: Model.buffers is field 4, Model.metadata field 6; Metadata {name: 0, buffer: 1};
  // --- Buffer {data: 0, offset: 1, size: 2} (tensorflow/lite/schema/schema.fbs).

  private static byte[] metadataBytes(ByteBuffer b) {
    if (b.limit() < 8 || b.get(4) != 'T' || b.get(5) != 'F' || b.get(6) != 'L' || b.get(7) != '3') {
      throw new IllegalArgumentException("not a TFLite model (no 'TFL3' identifier)");
    }
    int model = b.getInt(0);
    int metadata = field(b, model, 6);
    int buffers = field(b, model, 4);
    if (metadata == 0 || buffers == 0) {
      throw new IllegalArgumentException("the model has no metadata (was it written by tflnlu-export?)");
    }
    metadata = indirect(b, metadata);
    for (int i = 0; i < b.getInt(metadata); i++) {
      int entry = indirect(b, metadata + 4 + 4 * i);
      int name = field(b, entry, 0);
      if (name != 0 && METADATA_NAME.equals(string(b, indirect(b, name)))) {
        int bufferIndex = b.getInt(field(b, entry, 1));
        int vector = indirect(b, buffers);
        if (bufferIndex < 0 || bufferIndex >= b.getInt(vector)) {
          throw new IllegalArgumentException("metadata points at a missing buffer " + bufferIndex);
        }
        return bufferData(b, indirect(b, vector + 4 + 4 * bufferIndex));
      }
    }
    throw new IllegalArgumentException("the model has no '" + METADATA_NAME + "' metadata (was it written by tflnlu-export?)");
  }

  private static byte[] bufferData(ByteBuffer b, int buffer) {
    int data = field(b, buffer, 0);
    int start;
    int length;
    if (data != 0) {
      int vector = indirect(b, data);
      length = b.getInt(vector);
      start = vector + 4;
    } else { // large models keep buffers after the flatbuffer: offset and size from the file start
      int offset = field(b, buffer, 1);
      int size = field(b, buffer, 2);
      if (offset == 0 || size == 0) {
        throw new IllegalArgumentException("the metadata buffer is empty");
      }
      start = (int) b.getLong(offset);
      length = (int) b.getLong(size);
    }
    if (start < 0 || length < 0 || start + length > b.limit()) {
      throw new IllegalArgumentException("the metadata buffer ends past the end of the file (truncated?)");
    }
    byte[] out = new byte[length];
    for (int i = 0; i < length; i++) {
      out[i] = b.get(start + i);
    }
    return out;
  }

  /** Absolute position of field {@code index} of the table at {@code table}, or 0 when absent. */
  private static int field(ByteBuffer b, int table, int index) {
    int vtable = table - b.getInt(table);
    int vtableSize = b.getShort(vtable) & 0xffff;
    int entry = 4 + 2 * index;
    if (entry >= vtableSize) {
      return 0;
    }
    int offset = b.getShort(vtable + entry) & 0xffff;
    return offset == 0 ? 0 : table + offset;
  }

  private static int indirect(ByteBuffer b, int position) {
    return position + b.getInt(position);
  }

  private static String string(ByteBuffer b, int position) {
    byte[] bytes = new byte[b.getInt(position)];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = b.get(position + 4 + i);
    }
    return new String(bytes, StandardCharsets.UTF_8);
  }

  private static byte[] inflate(byte[] compressed) {
    Inflater inflater = new Inflater();
    inflater.setInput(compressed);
    ByteArrayOutputStream out = new ByteArrayOutputStream(compressed.length * 4);
    byte[] chunk = new byte[8192];
    try {
      while (!inflater.finished()) {
        int n = inflater.inflate(chunk);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw new IllegalArgumentException("the tflnlu metadata is truncated");
        }
        out.write(chunk, 0, n);
      }
    } catch (DataFormatException e) {
      throw new IllegalArgumentException("the tflnlu metadata is not zlib data: " + e.getMessage());
    } finally {
      inflater.end();
    }
    return out.toByteArray();
  }

  /**
   * Lines joined by '\n': one character '0'+p (p = code points shared with the previous word,
   * at most 9), then the rest of the word.
   */
  static List<String> frontDecode(String text) {
    List<String> words = new ArrayList<>();
    if (text.isEmpty()) {
      return Collections.unmodifiableList(words);
    }
    String previous = "";
    int number = 0;
    for (String line : text.split("\n", -1)) {
      number++;
      int shared = line.isEmpty() ? -1 : line.charAt(0) - '0';
      int previousLength = previous.codePointCount(0, previous.length());
      if (shared < 0 || shared > Math.min(MAX_SHARED, previousLength) || (shared == 0 && line.length() < 2)) {
        throw new IllegalArgumentException("front-coded vocabulary: entry " + number + " is malformed");
      }
      previous = previous.substring(0, previous.offsetByCodePoints(0, shared)) + line.substring(1);
      words.add(previous);
    }
    return Collections.unmodifiableList(words);
  }

  private static String asString(Object value, String what) {
    if (!(value instanceof String)) {
      throw new IllegalArgumentException("metadata: '" + what + "' must be a string");
    }
    return (String) value;
  }

  @SuppressWarnings("unchecked")
  private static Map<String, Object> asMap(Object value, String what) {
    if (!(value instanceof Map)) {
      throw new IllegalArgumentException("metadata: '" + what + "' must be an object");
    }
    return (Map<String, Object>) value;
  }

  private static int asInt(Object value, String what) {
    if (!(value instanceof Long)) {
      throw new IllegalArgumentException("metadata: '" + what + "' must be an integer");
    }
    return ((Long) value).intValue();
  }

  /** The settings written by tflnlu/data/subwords.py SubwordSpec.to_json: exactly these four integers. */
  private static Subwords subwords(Map<String, Object> spec) {
    String[] keys = {"min_n", "max_n", "buckets", "per_token"};
    if (!spec.keySet().equals(new HashSet<>(Arrays.asList(keys)))) {
      throw new IllegalArgumentException("metadata: 'subwords' must hold exactly min_n, max_n, buckets, per_token, not " + spec.keySet());
    }
    int[] values = new int[keys.length];
    for (int i = 0; i < keys.length; i++) {
      values[i] = asInt(spec.get(keys[i]), SUBWORDS + "." + keys[i]);
    }
    return new Subwords(values[0], values[1], values[2], values[3]);
  }

  private static List<String> strings(Object value, String what) {
    if (!(value instanceof List)) {
      throw new IllegalArgumentException("metadata: '" + what + "' must be a list of strings");
    }
    List<String> out = new ArrayList<>();
    for (Object item : (List<?>) value) {
      if (!(item instanceof String)) {
        throw new IllegalArgumentException("metadata: '" + what + "' must be a list of strings");
      }
      out.add((String) item);
    }
    return Collections.unmodifiableList(out);
  }
}
