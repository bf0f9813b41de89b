package dev.tflnlu.core;

import static org.junit.Assert.assertArrayEquals;
import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;

import java.util.Arrays;
import org.junit.Test;

public class ModelMetadataTest {
  // Written by tflnlu.modelfile.metadata.front_code (tests/export/test_metadata.py checks the same string).
  static final String FRONT_CODED =
      "0<pad>\n1unk>\n0a\n1b\n2c\n3defghijklmnop\n9jklmnopq\n0b\n0été\n3s\n0\uD83D\uDE00x\n1y\n02pm\n03";

  @Test
  public void decodesFrontCodedWordsByCodePoints() {
    assertEquals(
        Arrays.asList(
            "<pad>", "<unk>", "a", "ab", "abc", "abcdefghijklmnop", "abcdefghijklmnopq", "b", "été", "étés",
            "\uD83D\uDE00x", "\uD83D\uDE00y", "2pm", "3"),
        ModelMetadata.frontDecode(FRONT_CODED));
  }

  @Test
  public void anEmptyStringIsAnEmptyVocabulary() {
    assertEquals(0, ModelMetadata.frontDecode("").size());
  }

  @Test(expected = IllegalArgumentException.class)
  public void sharedPrefixLongerThanThePreviousWordIsRefused() {
    ModelMetadata.frontDecode("0ab\n3c");
  }

  @Test(expected = IllegalArgumentException.class)
  public void anEmptyWordIsRefused() {
    ModelMetadata.frontDecode("0ab\n0");
  }

  @Test(expected = IllegalArgumentException.class)
  public void aSharedPrefixOutsideZeroToNineIsRefused() {
    ModelMetadata.frontDecode("0abcdefghijk\n:x");
  }

  static final String WITH_SUBWORDS =
      "{\"tokenizer\": {\"version\": 1, \"max_len\": 4}, \"vocab_front_coded\": \"0<pad>\\n1unk>\\n0cat\","
          + " \"intents\": [\"a\"], \"tags\": [\"O\"], \"subwords\": {\"min_n\": 3, \"max_n\": 5,"
          + " \"buckets\": 4096, \"per_token\": 12}}";

  @Test
  public void aModelWithSubwordsFeedsWordAndNgramIdsInOneInput() {
    Nlu nlu = new Nlu(ModelMetadata.fromJson(WITH_SUBWORDS));
    Nlu.Encoded input = nlu.encode("Cat dog");
    int[][][] rows = (int[][][]) input.modelInput();
    assertEquals(1, rows.length);
    assertEquals(4, rows[0].length);
    // "cat": word id 2, then the ids SubwordsTest checks against Python; "dog": <unk> with its own n-grams.
    assertArrayEquals(new int[] {2, 1724, 3104, 2735, 1520, 2412, 2203, 0, 0, 0, 0, 0, 0}, rows[0][0]);
    assertEquals(1, rows[0][1][0]);
    int[] dog = new Subwords(3, 5, 4096, 12).tokenIds("dog");
    assertArrayEquals(dog, Arrays.copyOfRange(rows[0][1], 1, 13));
    assertArrayEquals(new int[13], rows[0][2]); // padding: word id 0, no n-grams
    assertArrayEquals(new int[13], rows[0][3]);
  }

  @Test
  public void aModelWithoutSubwordsKeepsItsFlatInput() {
    String json = WITH_SUBWORDS.substring(0, WITH_SUBWORDS.indexOf(", \"subwords\"")) + "}";
    int[][] rows = (int[][]) new Nlu(ModelMetadata.fromJson(json)).encode("cat").modelInput();
    assertArrayEquals(new int[] {2, 0, 0, 0}, rows[0]);
  }

  @Test
  public void subwordSettingsWithAMissingOrExtraKeyAreRefused() {
    for (String broken : new String[] {"\"other\": 12", "\"per_token\": 12, \"seed\": 1", "\"per_token\": 1.5"}) {
      try {
        ModelMetadata.fromJson(WITH_SUBWORDS.replace("\"per_token\": 12", broken));
        throw new AssertionError("accepted subwords settings with " + broken);
      } catch (IllegalArgumentException e) {
        assertTrue(e.getMessage(), e.getMessage().contains("subwords"));
      }
    }
  }
}
