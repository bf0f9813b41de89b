package dev.tflnlu.core;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Hashed character n-grams of a token (docs/tokenizer.md section 6), the same ids as
 * tflnlu/data/subwords.py: the n-grams of "&lt;" + token + "&gt;" by code point (every length
 * from minN up, each left to right, the first perToken kept), each hashed like a hashed
 * vocabulary word with its own salt into 1..buckets; 0 fills unused places and padding.
 */
public final class Subwords {
  static final long SALT = 0x5BD1E9955BD1E995L;
  public static final int NO_SUBWORD = 0;

  public final int minN;
  public final int maxN;
  public final int buckets;
  public final int perToken;

  public Subwords(int minN, int maxN, int buckets, int perToken) {
    if (minN < 2 || minN > maxN || maxN > 8) {
      throw new IllegalArgumentException("subword lengths " + minN + "-" + maxN + ": expected 2 <= min <= max <= 8");
    }
    if (buckets < 1 || buckets > (1 << 24)) {
      throw new IllegalArgumentException("subword buckets " + buckets + ": expected 1.." + (1 << 24));
    }
    if (perToken < 1 || perToken > 64) {
      throw new IllegalArgumentException("subwords per token " + perToken + ": expected 1..64");
    }
    this.minN = minN;
    this.maxN = maxN;
    this.buckets = buckets;
    this.perToken = perToken;
  }

  /** The kept n-grams of one token, in order. */
  public List<String> ngrams(String token) {
    int[] points = ("<" + token + ">").codePoints().toArray();
    List<String> grams = new ArrayList<>();
    for (int n = minN; n <= maxN; n++) {
      for (int i = 0; i + n <= points.length && grams.size() < perToken; i++) {
        grams.add(new String(points, i, n));
      }
    }
    return grams;
  }

  static int ngramId(String gram, int buckets) {
    long key = HashedVocabulary.mix64(HashedVocabulary.fnv1a64(gram.getBytes(StandardCharsets.UTF_8)) ^ SALT);
    return 1 + (int) (((key >>> 32) * buckets) >>> 32);
  }

  /** perToken ids of one token: its n-grams' buckets, then NO_SUBWORD. */
  public int[] tokenIds(String token) {
    int[] ids = new int[perToken]; // zero-filled: NO_SUBWORD
    List<String> grams = ngrams(token);
    for (int i = 0; i < grams.size(); i++) {
      ids[i] = ngramId(grams.get(i), buckets);
    }
    return ids;
  }

  /** The model input beside the word ids: [maxLen][perToken], the tokens cut to maxLen, padding rows 0. */
  public int[][] ids(List<Tokenizer.Token> tokens, int maxLen) {
    int[][] rows = new int[maxLen][];
    for (int i = 0; i < maxLen; i++) {
      rows[i] = i < tokens.size() ? tokenIds(tokens.get(i).text) : new int[perToken];
    }
    return rows;
  }
}
