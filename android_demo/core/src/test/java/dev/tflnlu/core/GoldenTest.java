package dev.tflnlu.core;

import static org.junit.Assert.assertEquals;
import static org.junit.Assert.assertTrue;
import static org.junit.Assume.assumeTrue;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.Test;

/**
 * The proof that this Java core does what Python does, on a golden file written by
 * tflnlu-export: token ids for every utterance, and the decoding of the stored raw model
 * outputs into intent, tags and slots. Run with -Dtflnlu.export=DIR (an export directory with
 * model.tflite, golden.jsonl and the label files; a model with subwords too); skipped without it.
 */
public class GoldenTest {
  private static final int MAX_REPORTED = 10;

  private static Path exportDir() {
    String dir = System.getProperty("tflnlu.export");
    assumeTrue("set -Dtflnlu.export=DIR to check a golden file", dir != null);
    return Paths.get(dir);
  }

  private static List<String> lines(Path path) throws IOException {
    return Files.readAllLines(path, StandardCharsets.UTF_8);
  }

  @Test
  public void metadataInsideTheModelEqualsThePlainFiles() throws IOException {
    Path dir = exportDir();
    ModelMetadata metadata = ModelMetadata.fromTflite(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("model.tflite"))));
    List<String> words = lines(dir.resolve("vocab.txt"));
    if (metadata.vocab.isEmpty()) { // hashed: no strings inside; vocab.txt lists the words in id order
      for (int i = 0; i < words.size(); i++) {
        assertEquals(words.get(i), i, metadata.vocabulary.id(words.get(i)));
      }
      assertEquals(words.size(), metadata.vocabulary.size());
    } else {
      assertEquals(words, metadata.vocab);
    }
    assertEquals(lines(dir.resolve("intents.txt")), metadata.intents);
    assertEquals(lines(dir.resolve("tags.txt")), metadata.tags);
    Map<?, ?> tokenizer = (Map<?, ?>) Json.parse(new String(Files.readAllBytes(dir.resolve("tokenizer.json")), StandardCharsets.UTF_8));
    assertEquals(((Long) tokenizer.get("max_len")).intValue(), metadata.maxLen);
  }

  @Test
  public void everyGoldenRecordTokenizesAndDecodesAsInPython() throws IOException {
    Path dir = exportDir();
    Nlu nlu = new Nlu(ModelMetadata.fromTflite(ByteBuffer.wrap(Files.readAllBytes(dir.resolve("model.tflite")))));
    List<String> records = lines(dir.resolve("golden.jsonl"));
    int minimum = Integer.parseInt(System.getProperty("tflnlu.minRecords", "1000"));
    assertTrue("the golden file has " + records.size() + " records, fewer than " + minimum, records.size() >= minimum);
    List<String> failures = new ArrayList<>();
    for (int line = 0; line < records.size(); line++) {
      String problem;
      try {
        problem = check((Map<?, ?>) Json.parse(records.get(line)), nlu);
      } catch (IllegalArgumentException | ClassCastException e) {
        problem = "damaged record (" + e.getMessage() + ")";
      }
      if (problem != null) {
        failures.add("golden.jsonl:" + (line + 1) + ": " + problem);
      }
    }
    assertTrue(
        failures.size() + " of " + records.size() + " records differ, first:\n"
            + String.join("\n", failures.subList(0, Math.min(MAX_REPORTED, failures.size()))),
        failures.isEmpty());
    int decoded = 0;
    for (String record : records) {
      decoded += record.contains("\"intent_raw\"") ? 1 : 0;
    }
    System.out.println("golden: " + records.size() + " records identical (" + decoded + " decoded from raw scores)");
  }

  /** null when Java agrees with the record, else what differs. */
  private static String check(Map<?, ?> record, Nlu nlu) {
    String text = (String) record.get("text");
    Nlu.Encoded input = nlu.encode(text);
    List<String> tokens = new ArrayList<>();
    for (Tokenizer.Token token : input.tokens) {
      tokens.add(token.text);
    }
    if (!tokens.equals(record.get("tokens"))) {
      return Json.quote(text) + ": tokens " + tokens + " != " + record.get("tokens");
    }
    List<Object> ids = modelInputAsJson(input);
    if (!ids.equals(record.get("ids"))) {
      return Json.quote(text) + ": ids " + ids + " != " + record.get("ids");
    }
    if (!record.containsKey("intent_raw")) {
      return null;  // raw scores are kept for a sample of the records: tokens and ids were the check
    }
    Nlu.Result result = nlu.decode(input, bytes((List<?>) record.get("intent_raw")), matrix((List<?>) record.get("slots_raw")), 1f, 0);
    if (!result.intent.equals(record.get("intent"))) {
      return Json.quote(text) + ": intent " + result.intent + " != " + record.get("intent");
    }
    if (!result.tags.equals(record.get("tags"))) {
      return Json.quote(text) + ": tags " + result.tags + " != " + record.get("tags");
    }
    List<String> slots = new ArrayList<>();
    for (BioDecoder.Slot slot : result.slots) {
      slots.add(slot.type + "|" + slot.start + "|" + slot.end + "|" + slot.text);
    }
    List<String> expected = new ArrayList<>();
    for (Object item : (List<?>) record.get("slots")) {
      Map<?, ?> slot = (Map<?, ?>) item;
      expected.add(slot.get("type") + "|" + slot.get("start") + "|" + slot.get("end") + "|" + slot.get("text"));
    }
    if (!slots.equals(expected)) {
      return Json.quote(text) + ": slots " + slots + " != " + expected;
    }
    List<String> spans = new ArrayList<>();
    int[] lengths = Tokenizer.normalizedPrefixLengths(text);
    for (BioDecoder.Slot slot : result.slots) {
      int from = input.tokens.get(slot.start).start;
      int to = input.tokens.get(slot.end - 1).end;
      int[] span = Tokenizer.originalSpan(lengths, from, to);
      spans.add(slot.type + "|" + span[0] + "|" + span[1] + "|" + Tokenizer.codePointSubstring(text, span[0], span[1]));
    }
    List<String> expectedSpans = new ArrayList<>();
    for (Object item : (List<?>) record.get("spans")) {
      Map<?, ?> span = (Map<?, ?>) item;
      expectedSpans.add(span.get("type") + "|" + span.get("start") + "|" + span.get("end") + "|" + span.get("text"));
    }
    return spans.equals(expectedSpans) ? null : Json.quote(text) + ": spans " + spans + " != " + expectedSpans;
  }

  /** The ids as golden.jsonl writes them: [maxLen] numbers, or with subwords [maxLen][1 + perToken]. */
  private static List<Object> modelInputAsJson(Nlu.Encoded input) {
    Object batch = input.modelInput();
    Object[] rows = batch instanceof int[][][] ? ((int[][][]) batch)[0] : new Object[] {((int[][]) batch)[0]};
    List<Object> out = new ArrayList<>();
    for (Object row : rows) {
      List<Long> numbers = new ArrayList<>();
      for (int id : (int[]) row) {
        numbers.add((long) id);
      }
      out.add(numbers);
    }
    return input.subwordIds == null ? new ArrayList<Object>((List<?>) out.get(0)) : out;
  }

  private static byte[] bytes(List<?> values) {
    byte[] out = new byte[values.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Long) values.get(i)).byteValue();
    }
    return out;
  }

  private static byte[][] matrix(List<?> rows) {
    byte[][] out = new byte[rows.size()][];
    for (int i = 0; i < out.length; i++) {
      out[i] = bytes((List<?>) rows.get(i));
    }
    return out;
  }
}
