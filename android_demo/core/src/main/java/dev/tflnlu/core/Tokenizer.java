package dev.tflnlu.core;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * The tflnlu tokenizer, version 1: the Java form of {@code docs/tokenizer.md}.
 *
 * <p>It must give exactly the tokens of {@code tflnlu/data/tokenizer.py}: the model was trained
 * on those ids, and a token split differently here is a silently wrong input on the phone. The
 * project's tests run this class against golden files and random strings written by Python.
 * Offsets count Unicode code points (as Python does), never UTF-16 chars.
 */
public final class Tokenizer {
  public static final int VERSION = 1;

  private static final int APOSTROPHE = '\'';
  private static final String APOSTROPHE_LOOKALIKES = "\u2018\u2019\u02bc\u0060\u00b4";
  private static final int CAPITAL_I_WITH_DOT = 0x0130;
  private static final int CAPITAL_SIGMA = 0x03A3;
  private static final int SMALL_SIGMA = 0x03C3;
  private static final int FINAL_SIGMA = 0x03C2;
  /** Word_Break MidLetter, MidNumLet and Single_Quote (Unicode 13/14 WordBreakProperty.txt). */
  private static final String WORD_BREAK_MID =
      "\u0027\u002e\u003a\u00b7\u0387\u055f\u05f4\u2018\u2019\u2024\u2027\ufe13\ufe52\ufe55\uff07\uff0e\uff1a";
  /** Code points that are tokens of their own (scripts written without spaces). */
  private static final int[][] IDEOGRAPH_RANGES = {
    {0x3040, 0x30FF}, // Hiragana, Katakana
    {0x3400, 0x4DBF}, // CJK Extension A
    {0x4E00, 0x9FFF}, // CJK Unified Ideographs
    {0xAC00, 0xD7AF}, // Hangul syllables
    {0xF900, 0xFAFF}, // CJK Compatibility Ideographs
    {0x20000, 0x2FA1F}, // CJK Extensions B-F, Compatibility Supplement
  };

  enum CharClass { SEPARATOR, IDEOGRAPH, LETTER, MARK, DIGIT, APOSTROPHE, SYMBOL }

  /** A token with its code-point span in the normalized string. */
  public static final class Token {
    public final String text;
    public final int start;
    public final int end;

    Token(String text, int start, int end) {
      this.text = text;
      this.start = start;
      this.end = end;
    }

    @Override
    public String toString() {
      return text + "[" + start + "," + end + ")";
    }
  }

  private Tokenizer() {}

  /** NFKC, apostrophe look-alikes to U+0027, then language-independent lower case (spec 1). */
  public static String normalize(String text) {
    String nfkc = Normalizer.normalize(text, Normalizer.Form.NFKC);
    StringBuilder mapped = new StringBuilder(nfkc.length());
    for (int i = 0; i < nfkc.length(); ) {
      int cp = nfkc.codePointAt(i);
      i += Character.charCount(cp);
      mapped.appendCodePoint(APOSTROPHE_LOOKALIKES.indexOf(cp) >= 0 ? APOSTROPHE : cp);
    }
    return lowerCase(mapped.toString());
  }

  /**
   * Full lower-case mapping exactly as Python's {@code str.lower()}: the simple mapping, the one
   * unconditional multi-character mapping (U+0130), and capital sigma by Unicode's Final_Sigma
   * context. Java's {@code toLowerCase} decides Final_Sigma by word boundaries instead, which
   * differs (Java lowers "A0\u03a3" to "a0\u03c2", Python and Unicode to "a0\u03c3").
   */
  static String lowerCase(String text) {
    int[] cps = text.codePoints().toArray();
    StringBuilder out = new StringBuilder(text.length() + 4);
    for (int i = 0; i < cps.length; i++) {
      int cp = cps[i];
      if (cp == CAPITAL_I_WITH_DOT) {
        out.append("i\u0307");
      } else if (cp == CAPITAL_SIGMA) {
        out.appendCodePoint(isFinalSigma(cps, i) ? FINAL_SIGMA : SMALL_SIGMA);
      } else {
        out.appendCodePoint(Character.toLowerCase(cp));
      }
    }
    return out.toString();
  }

  /** Final_Sigma: a cased letter, then case-ignorables, before; no case-ignorables then cased after. */
  private static boolean isFinalSigma(int[] cps, int index) {
    int before = index - 1;
    while (before >= 0 && isCaseIgnorable(cps[before])) {
      before--;
    }
    if (before < 0 || !isCased(cps[before])) {
      return false;
    }
    int after = index + 1;
    while (after < cps.length && isCaseIgnorable(cps[after])) {
      after++;
    }
    return after == cps.length || !isCased(cps[after]);
  }

  private static boolean isCased(int cp) {
    return Character.isLowerCase(cp) || Character.isUpperCase(cp) || Character.isTitleCase(cp);
  }

  /** Unicode Case_Ignorable: Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter, MidNumLet, Single_Quote. */
  private static boolean isCaseIgnorable(int cp) {
    switch (Character.getType(cp)) {
      case Character.NON_SPACING_MARK:
      case Character.ENCLOSING_MARK:
      case Character.FORMAT:
      case Character.MODIFIER_LETTER:
      case Character.MODIFIER_SYMBOL:
        return true;
      default:
        return WORD_BREAK_MID.indexOf(cp) >= 0;
    }
  }

  static CharClass classOf(int cp) {
    switch (Character.getType(cp)) {
      case Character.SPACE_SEPARATOR:
      case Character.LINE_SEPARATOR:
      case Character.PARAGRAPH_SEPARATOR:
      case Character.CONTROL:
      case Character.FORMAT:
      case Character.SURROGATE:
      case Character.PRIVATE_USE:
      case Character.UNASSIGNED:
        return CharClass.SEPARATOR;
      default:
        break;
    }
    for (int[] range : IDEOGRAPH_RANGES) {
      if (cp >= range[0] && cp <= range[1]) {
        return CharClass.IDEOGRAPH;
      }
    }
    if (cp == APOSTROPHE) {
      return CharClass.APOSTROPHE;
    }
    switch (Character.getType(cp)) {
      case Character.UPPERCASE_LETTER:
      case Character.LOWERCASE_LETTER:
      case Character.TITLECASE_LETTER:
      case Character.MODIFIER_LETTER:
      case Character.OTHER_LETTER:
        return CharClass.LETTER;
      case Character.NON_SPACING_MARK:
      case Character.ENCLOSING_MARK:
      case Character.COMBINING_SPACING_MARK:
        return CharClass.MARK;
      case Character.DECIMAL_DIGIT_NUMBER:
      case Character.LETTER_NUMBER:
      case Character.OTHER_NUMBER:
        return CharClass.DIGIT;
      default:
        return CharClass.SYMBOL;
    }
  }

  /** Split an already-normalized string into tokens (spec sections 2 and 3). */
  public static List<Token> splitNormalized(String text) {
    int[] cps = text.codePoints().toArray();
    List<Token> tokens = new ArrayList<>();
    int start = -1; // start of the token being built, or -1
    CharClass kind = null; // LETTER or DIGIT: the kind of the token being built
    for (int i = 0; i < cps.length; i++) {
      CharClass cls = classOf(cps[i]);
      if (cls == CharClass.MARK) {
        if (start < 0) {
          start = i;
          kind = CharClass.LETTER;
        }
        continue;
      }
      if (cls == CharClass.LETTER || cls == CharClass.DIGIT) {
        if (start >= 0 && kind != cls) {
          tokens.add(token(cps, start, i));
          start = -1;
        }
        if (start < 0) {
          start = i;
          kind = cls;
        }
        continue;
      }
      if (start >= 0) {
        tokens.add(token(cps, start, i));
        start = -1;
      }
      boolean nextIsLetter = i + 1 < cps.length && classOf(cps[i + 1]) == CharClass.LETTER;
      if (cls == CharClass.APOSTROPHE && nextIsLetter) {
        start = i;
        kind = CharClass.LETTER;
      } else if (cls != CharClass.SEPARATOR) {
        tokens.add(token(cps, i, i + 1));
      }
    }
    if (start >= 0) {
      tokens.add(token(cps, start, cps.length));
    }
    return Collections.unmodifiableList(tokens);
  }

  /** The tokens of raw user text. */
  public static List<Token> tokenize(String text) {
    return splitNormalized(normalize(text));
  }

  /** The substring of code points [start, end) of {@code text}. */
  public static String codePointSubstring(String text, int start, int end) {
    int from = text.offsetByCodePoints(0, start);
    return text.substring(from, text.offsetByCodePoints(from, end - start));
  }

  /**
   * L[i] = code points of normalize(the first i code points of text), i = 0..n: how far into the
   * normalized string each position of the original reaches (docs/tokenizer.md section 5). Per
   * chunk starting at an ASCII whitespace (it never composes and stops Final_Sigma), checked
   * against the whole text, as Python's {@code normalized_prefix_lengths}.
   */
  public static int[] normalizedPrefixLengths(String text) {
    int[] cps = text.codePoints().toArray();
    int[] lengths = new int[cps.length + 1];
    int offset = 0;
    int start = 0;
    while (start < cps.length) {
      int end = start + 1;
      while (end < cps.length && " \t\n\r".indexOf(cps[end]) < 0) {
        end++;
      }
      for (int k = 1; k <= end - start; k++) {
        lengths[start + k] = offset + codePoints(normalize(new String(cps, start, k)));
      }
      offset = lengths[end];
      start = end;
    }
    if (offset != codePoints(normalize(text))) { // not expected; exact regardless
      for (int i = 1; i <= cps.length; i++) {
        lengths[i] = codePoints(normalize(new String(cps, 0, i)));
      }
    }
    return lengths;
  }

  /**
   * The slice [start, end) of the original text (code points) whose normalization is the
   * normalized code points [from, to), as Python's {@code original_span}.
   */
  public static int[] originalSpan(int[] lengths, int from, int to) {
    int first = lastAtMost(lengths, from);
    int last = lastAtMost(lengths, to);
    if (lengths[last] < to) {
      last++;
    }
    return new int[] {first, Math.min(last, lengths.length - 1)};
  }

  private static int lastAtMost(int[] sorted, int value) {
    int index = 0;
    while (index + 1 < sorted.length && sorted[index + 1] <= value) {
      index++;
    }
    return index;
  }

  private static int codePoints(String text) {
    return text.codePointCount(0, text.length());
  }

  private static Token token(int[] cps, int start, int end) {
    return new Token(new String(cps, start, end - start), start, end);
  }
}
