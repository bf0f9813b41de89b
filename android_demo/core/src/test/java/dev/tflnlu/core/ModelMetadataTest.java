package dev.tflnlu.core;

import static org.junit.Assert.assertEquals;

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

  @Test
  public void aModelWithSubwordsIsRefusedByName() {
    String json =
        "{\"tokenizer\": {\"version\": 1, \"max_len\": 4}, \"vocab_front_coded\": \"0<pad>\\n1unk>\","
            + " \"intents\": [\"a\"], \"tags\": [\"O\"], \"subwords\": {\"min_n\": 3, \"max_n\": 5,"
            + " \"buckets\": 8, \"per_token\": 4}}";
    try {
      ModelMetadata.fromJson(json);
      throw new AssertionError("a model with subwords was accepted");
    } catch (IllegalArgumentException e) {
      assertEquals(true, e.getMessage().contains("subwords"));
    }
  }
}
