package dev.tflnlu.core;

import static org.junit.Assert.assertEquals;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.Test;

/** The examples of docs/tokenizer.md, and the places where Java and Python usually part ways. */
public class TokenizerTest {
  private static List<String> texts(String input) {
    List<String> out = new ArrayList<>();
    for (Tokenizer.Token token : Tokenizer.tokenize(input)) {
      out.add(token.text);
    }
    return out;
  }

  @Test
  public void apostropheStartsALetterToken() {
    assertEquals(Arrays.asList("what", "'s", "the", "weather"), texts("What's the weather"));
    assertEquals(Arrays.asList("don", "'t"), texts("don\u2019t"));
    assertEquals(Arrays.asList("rock", "'", "n", "'", "roll"), texts("rock ' n ' roll"));
  }

  @Test
  public void lettersAndDigitsSplit() {
    assertEquals(Arrays.asList("wake", "me", "at", "6", ":", "30", "am"), texts("wake me at 6:30am"));
    assertEquals(Arrays.asList("1", "2"), texts("\u2460 2"));
  }

  @Test
  public void ideographsAreTokensOfTheirOwn() {
    assertEquals(Arrays.asList("東", "京", "の", "天", "気", "は"), texts("東京の天気は"));
  }

  @Test
  public void nfkcLowerCaseAndFinalSigma() {
    assertEquals(Arrays.asList("fi", "nal"), texts("\ufb01 nal"));
    assertEquals(Arrays.asList("σίσυφος", "οδος"), texts("ΣΊΣΥΦΟΣ ΟΔΟΣ"));
    assertEquals(Arrays.asList("i\u0307stanbul"), texts("İstanbul"));
    // Final_Sigma by Unicode's context rule, as Python: a digit is neither cased nor ignorable.
    assertEquals("a0\u03c3", Tokenizer.lowerCase("A0\u03a3"));
    assertEquals("a.\u03c2", Tokenizer.lowerCase("A.\u03a3"));
    assertEquals("a:\u03c3b", Tokenizer.lowerCase("A:\u03a3b"));
    assertEquals("a\u03c3\u00adb", Tokenizer.lowerCase("A\u03a3\u00adB"));
    assertEquals("\u03c3", Tokenizer.lowerCase("\u03a3"));
  }

  @Test
  public void separatorsAndSymbols() {
    assertEquals(Arrays.asList(), texts(""));
    assertEquals(Arrays.asList(), texts(" \t\u200b\n"));
    assertEquals(Arrays.asList("zero", "width"), texts("zero\u200bwidth"));
    assertEquals(Arrays.asList("!", "!", "?"), texts("!!?"));
    assertEquals(Arrays.asList("joke", "\ud83d\ude00", "\ud83d\ude00"), texts("joke 😀😀"));
  }

  @Test
  public void aMarkWithNothingBeforeItStartsAToken() {
    assertEquals(Arrays.asList("\u0301a"), texts("\u0301a"));
    assertEquals(Arrays.asList("5\u0301", "a"), texts("5\u0301a"));
  }

  @Test
  public void offsetsCountCodePoints() {
    List<Tokenizer.Token> tokens = Tokenizer.tokenize("😀 ab");
    assertEquals("\ud83d\ude00", tokens.get(0).text);
    assertEquals(1, tokens.get(0).end);
    assertEquals(2, tokens.get(1).start);
    assertEquals(4, tokens.get(1).end);
    assertEquals("ab", Tokenizer.codePointSubstring("😀 ab", 2, 4));
  }
}
