package dev.tflnlu.core;

import java.nio.charset.StandardCharsets;
import java.util.Map;

/**
 * Token to id with no strings stored: a minimal perfect hash of the words and a fingerprint per
 * word, read from the model's metadata entry {@code vocab_hashed} (tflnlu-export
 * --vocabulary=hashed). The arithmetic is docs/model_file.md's "Hashed vocabulary", the same
 * as tflnlu/data/hashed_vocab.py: unsigned 64-bit, which Java's long multiplication and
 * {@code >>>} give exactly. An unknown token is taken for a known word with probability
 * 2^-fingerprintBits.
 */
public final class HashedVocabulary implements WordIds {
  static final int VERSION = 1;
  private static final long FNV_OFFSET = 0xCBF29CE484222325L;
  private static final long FNV_PRIME = 0x100000001B3L;
  private static final long PILOT_STEP = 0x9E3779B97F4A7C15L;
  private static final long FINGERPRINT_SALT = 0xD6E8FEB86659FD93L;
  private static final int FIRST_WORD_ID = 2;
  private static final int BUCKET_SIZE = 4; // words per bucket: buckets = ceil(words / 4)

  private final int words;
  private final long seed;
  private final int fingerprintBits;
  private final int[] pilots;
  private final int[] fingerprints;

  private HashedVocabulary(int words, long seed, int fingerprintBits, int[] pilots, int[] fingerprints) {
    this.words = words;
    this.seed = seed;
    this.fingerprintBits = fingerprintBits;
    this.pilots = pilots;
    this.fingerprints = fingerprints;
  }

  /** The stored object, every field checked: a damaged one is refused, never guessed. */
  public static HashedVocabulary fromJson(Map<?, ?> stored) {
    if (integer(stored, "version") != VERSION) {
      throw new IllegalArgumentException("hashed vocabulary version " + stored.get("version") + " is not supported");
    }
    long words = integer(stored, "words");
    long bits = integer(stored, "fingerprint_bits");
    long buckets = integer(stored, "buckets");
    long seed = integer(stored, "seed");
    if ((bits != 4 && bits != 8 && bits != 12 && bits != 16) || words < 0 || words > Integer.MAX_VALUE
        || buckets != (words + BUCKET_SIZE - 1) / BUCKET_SIZE || seed < 0) {
      throw new IllegalArgumentException("hashed vocabulary: impossible sizes");
    }
    byte[] pilotBytes = Base64Decoder.decode(string(stored, "pilots"));
    if (pilotBytes.length < buckets) { // at least a byte a pilot: refused before anything is allocated
      throw new IllegalArgumentException("hashed vocabulary: " + pilotBytes.length + " pilot bytes for " + buckets + " buckets");
    }
    int[] pilots = varints(pilotBytes, (int) buckets);
    int[] prints = unpackBits(Base64Decoder.decode(string(stored, "fingerprints")), (int) bits, (int) words);
    return new HashedVocabulary((int) words, seed, (int) bits, pilots, prints);
  }

  @Override
  public int size() {
    return words + FIRST_WORD_ID;
  }

  @Override
  public int id(String token) {
    if (Vocabulary.PAD_TOKEN.equals(token)) {
      return PAD_ID;
    }
    if (Vocabulary.UNK_TOKEN.equals(token) || words == 0) {
      return UNK_ID;
    }
    long key = wordHash(token, seed);
    int slot = slot(key, pilots[(int) (((key >>> 32) * pilots.length) >>> 32)], words);
    if (fingerprints[slot] != fingerprint(key, fingerprintBits)) {
      return UNK_ID;
    }
    return FIRST_WORD_ID + slot;
  }

  static long fnv1a64(byte[] data) {
    long value = FNV_OFFSET;
    for (byte b : data) {
      value = (value ^ (b & 0xff)) * FNV_PRIME;
    }
    return value;
  }

  /** splitmix64's finalizer. */
  static long mix64(long value) {
    value = (value ^ (value >>> 30)) * 0xBF58476D1CE4E5B9L;
    value = (value ^ (value >>> 27)) * 0x94D049BB133111EBL;
    return value ^ (value >>> 31);
  }

  static long wordHash(String token, long seed) {
    return mix64(fnv1a64(token.getBytes(StandardCharsets.UTF_8)) ^ seed);
  }

  private static int slot(long key, int pilot, int slots) {
    return (int) (((mix64(key + pilot * PILOT_STEP) >>> 32) * slots) >>> 32);
  }

  private static int fingerprint(long key, int bits) {
    return (int) (mix64(key ^ FINGERPRINT_SALT) & ((1L << bits) - 1));
  }

  /** LEB128: seven bits a byte, low first, high bit set while more follow. */
  private static int[] varints(byte[] data, int count) {
    int[] values = new int[count];
    int n = 0;
    long value = 0;
    int shift = 0;
    for (byte b : data) {
      value |= (long) (b & 0x7f) << shift;
      shift += 7;
      if (shift > 28) {
        throw new IllegalArgumentException("hashed vocabulary: a pilot is too long");
      }
      if ((b & 0x80) == 0) {
        if (n == count) {
          throw new IllegalArgumentException("hashed vocabulary: more pilots stored than " + count);
        }
        values[n++] = (int) value;
        value = 0;
        shift = 0;
      }
    }
    if (shift != 0 || n != count) {
      throw new IllegalArgumentException("hashed vocabulary: " + n + " pilots stored, " + count + " expected");
    }
    return values;
  }

  /** Little-endian bit stream: value i occupies bits [i*bits, (i+1)*bits). */
  private static int[] unpackBits(byte[] data, int bits, int count) {
    if (data.length != (int) (((long) count * bits + 7) / 8)) {
      throw new IllegalArgumentException("hashed vocabulary: " + data.length + " fingerprint bytes for " + count + " words");
    }
    int[] values = new int[count];
    for (int i = 0; i < count; i++) {
      long position = (long) i * bits;
      int value = 0;
      for (int bit = 0; bit < bits; bit++) {
        long at = position + bit;
        value |= ((data[(int) (at >>> 3)] >> (at & 7)) & 1) << bit;
      }
      values[i] = value;
    }
    return values;
  }

  private static long integer(Map<?, ?> stored, String name) {
    Object value = stored.get(name);
    if (!(value instanceof Long)) {
      throw new IllegalArgumentException("hashed vocabulary is damaged ('" + name + "' missing or not an integer)");
    }
    return (Long) value;
  }

  private static String string(Map<?, ?> stored, String name) {
    Object value = stored.get(name);
    if (!(value instanceof String)) {
      throw new IllegalArgumentException("hashed vocabulary is damaged ('" + name + "' missing or not a string)");
    }
    return (String) value;
  }
}
