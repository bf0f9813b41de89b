package dev.tflnlu.core;

import java.util.ArrayList;
import java.util.List;

/**
 * Slot tags back into slots: BIO-constrained Viterbi decoding and seqeval-style spans, the
 * Java form of {@code tflnlu/models/decoding.py} and {@code bio_spans}.
 *
 * <p>The decoder takes the model's raw (int8) slot scores. The best path does not change when
 * every score at a position is shifted by the same amount (log-softmax) or all are scaled by one
 * positive number (dequantization), so decoding the raw integers gives Python's path with exact
 * arithmetic, free of float rounding differences between the two languages.
 */
public final class BioDecoder {
  private static final double FORBIDDEN = -1e9;
  public static final String OUTSIDE_TAG = "O";

  /** A slot: its type, its token span [start, end) and its text in the normalized utterance. */
  public static final class Slot {
    public final String type;
    public final int start;
    public final int end;
    public final String text;

    Slot(String type, int start, int end, String text) {
      this.type = type;
      this.start = start;
      this.end = end;
      this.text = text;
    }

    @Override
    public String toString() {
      return type + "[" + start + "," + end + ")=" + text;
    }
  }

  private BioDecoder() {}

  /** Most probable valid tag ids for scores [T][S] of the T real tokens. */
  public static int[] viterbi(double[][] scores, List<String> tags) {
    int length = scores.length;
    if (length == 0) {
      return new int[0];
    }
    int numTags = tags.size();
    boolean[] startAllowed = new boolean[numTags];
    boolean[][] allowed = new boolean[numTags][numTags]; // [from][to]
    for (int to = 0; to < numTags; to++) {
      String tag = tags.get(to);
      startAllowed[to] = !tag.startsWith("I-");
      for (int from = 0; from < numTags; from++) {
        String previous = tags.get(from);
        allowed[from][to] = !tag.startsWith("I-") || previous.equals("B-" + tag.substring(2)) || previous.equals(tag);
      }
    }
    double[] score = new double[numTags];
    for (int s = 0; s < numTags; s++) {
      score[s] = scores[0][s] + (startAllowed[s] ? 0.0 : FORBIDDEN);
    }
    int[][] back = new int[length][numTags];
    for (int t = 1; t < length; t++) {
      double[] next = new double[numTags];
      for (int to = 0; to < numTags; to++) {
        int best = 0;
        double bestScore = Double.NEGATIVE_INFINITY;
        for (int from = 0; from < numTags; from++) {
          double candidate = score[from] + (allowed[from][to] ? 0.0 : FORBIDDEN);
          if (candidate > bestScore) { // first maximum wins, as numpy's argmax
            bestScore = candidate;
            best = from;
          }
        }
        back[t][to] = best;
        next[to] = bestScore + scores[t][to];
      }
      score = next;
    }
    int[] path = new int[length];
    path[length - 1] = argmax(score);
    for (int t = length - 1; t > 0; t--) {
      path[t - 1] = back[t][path[t]];
    }
    return path;
  }

  /** Spans of a BIO sequence, in order: an I- tag that does not continue its type starts a span. */
  public static List<Slot> spans(List<String> tags, List<Tokenizer.Token> tokens, String normalized) {
    List<Slot> slots = new ArrayList<>();
    int start = -1;
    String kind = null;
    for (int i = 0; i <= tags.size(); i++) {
      String tag = i < tags.size() ? tags.get(i) : OUTSIDE_TAG;
      int dash = tag.indexOf('-');
      String prefix = dash < 0 ? tag : tag.substring(0, dash);
      String type = dash < 0 ? "" : tag.substring(dash + 1);
      boolean continues = prefix.equals("I") && type.equals(kind);
      if (start >= 0 && !continues) {
        String text = Tokenizer.codePointSubstring(normalized, tokens.get(start).start, tokens.get(i - 1).end);
        slots.add(new Slot(kind, start, i, text));
        start = -1;
        kind = null;
      }
      if ((prefix.equals("B") || prefix.equals("I")) && !continues) {
        start = i;
        kind = type;
      }
    }
    return slots;
  }

  /** Index of the first maximum. */
  public static int argmax(double[] values) {
    int best = 0;
    for (int i = 1; i < values.length; i++) {
      if (values[i] > values[best]) {
        best = i;
      }
    }
    return best;
  }
}
