package dev.tflnlu.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Everything around the model call, without Android: text to the int32 input ids, and the int8
 * outputs back to an intent with its probability and the slots. The app runs the model between
 * {@link #encode} and {@link #decode}.
 */
public final class Nlu {
  /** The model input for one utterance and what decoding needs to map tags back onto text. */
  public static final class Encoded {
    public final String normalized;
    public final List<Tokenizer.Token> tokens;
    public final int[] ids; // [maxLen], padded
    /** [maxLen][perToken] n-gram ids beside the word ids (padding rows 0), or null without subwords. */
    public final int[][] subwordIds;

    Encoded(String normalized, List<Tokenizer.Token> tokens, int[] ids, int[][] subwordIds) {
      this.normalized = normalized;
      this.tokens = tokens;
      this.ids = ids;
      this.subwordIds = subwordIds;
    }

    /**
     * The model's one int32 input with its batch dimension: [1][maxLen], or with subwords
     * [1][maxLen][1 + perToken] (each row the word id, then its n-gram ids; docs/model_file.md).
     */
    public Object modelInput() {
      if (subwordIds == null) {
        return new int[][] {ids};
      }
      int[][] rows = new int[ids.length][];
      for (int t = 0; t < ids.length; t++) {
        rows[t] = new int[1 + subwordIds[t].length];
        rows[t][0] = ids[t];
        System.arraycopy(subwordIds[t], 0, rows[t], 1, subwordIds[t].length);
      }
      return new int[][][] {rows};
    }
  }

  /** The decoded prediction. */
  public static final class Result {
    public final String intent;
    public final double intentProbability;
    public final List<String> tags; // one per real (non-padding, not cut) token
    public final List<BioDecoder.Slot> slots;

    Result(String intent, double intentProbability, List<String> tags, List<BioDecoder.Slot> slots) {
      this.intent = intent;
      this.intentProbability = intentProbability;
      this.tags = tags;
      this.slots = slots;
    }
  }

  private final ModelMetadata metadata;
  private final WordIds vocabulary;

  public Nlu(ModelMetadata metadata) {
    this.metadata = metadata;
    this.vocabulary = metadata.vocabulary;
  }

  public ModelMetadata metadata() {
    return metadata;
  }

  public Encoded encode(String text) {
    String normalized = Tokenizer.normalize(text);
    List<Tokenizer.Token> tokens = Tokenizer.splitNormalized(normalized);
    int[][] subwordIds = metadata.subwords == null ? null : metadata.subwords.ids(tokens, metadata.maxLen);
    return new Encoded(normalized, tokens, vocabulary.ids(tokens, metadata.maxLen), subwordIds);
  }

  /**
   * Decode the model's raw int8 outputs: intent scores [I] and slot scores [maxLen][S], with the
   * intent output's quantization (scale, zero point) for the probability.
   */
  public Result decode(Encoded input, byte[] intentRaw, byte[][] slotRaw, float intentScale, int intentZeroPoint) {
    double[] intentScores = new double[intentRaw.length];
    for (int i = 0; i < intentRaw.length; i++) {
      intentScores[i] = intentRaw[i];
    }
    int best = BioDecoder.argmax(intentScores);
    int realTokens = Math.min(input.tokens.size(), metadata.maxLen);
    double[][] slotScores = new double[realTokens][];
    for (int t = 0; t < realTokens; t++) {
      slotScores[t] = new double[slotRaw[t].length];
      for (int s = 0; s < slotRaw[t].length; s++) {
        slotScores[t][s] = slotRaw[t][s];
      }
    }
    int[] path = BioDecoder.viterbi(slotScores, metadata.tags);
    List<String> tags = new ArrayList<>(path.length);
    for (int id : path) {
      tags.add(metadata.tags.get(id));
    }
    List<BioDecoder.Slot> slots = BioDecoder.spans(tags, input.tokens, input.normalized);
    double probability = softmaxAt(intentRaw, best, intentScale, intentZeroPoint);
    return new Result(metadata.intents.get(best), probability, Collections.unmodifiableList(tags), slots);
  }

  private static double softmaxAt(byte[] raw, int index, float scale, int zeroPoint) {
    double max = Double.NEGATIVE_INFINITY;
    for (byte value : raw) {
      max = Math.max(max, (value - zeroPoint) * (double) scale);
    }
    double sum = 0;
    for (byte value : raw) {
      sum += Math.exp((value - zeroPoint) * (double) scale - max);
    }
    return Math.exp((raw[index] - zeroPoint) * (double) scale - max) / sum;
  }
}
