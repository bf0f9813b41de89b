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

    Encoded(String normalized, List<Tokenizer.Token> tokens, int[] ids) {
      this.normalized = normalized;
      this.tokens = tokens;
      this.ids = ids;
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
    return new Encoded(normalized, tokens, vocabulary.ids(tokens, metadata.maxLen));
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
