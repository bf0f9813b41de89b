package dev.tflnlu.demo;

import android.content.Context;
import android.content.res.AssetFileDescriptor;
import dev.tflnlu.core.ModelMetadata;
import dev.tflnlu.core.Nlu;
import java.io.FileInputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.util.HashMap;
import java.util.Map;
import org.tensorflow.lite.Interpreter;
import org.tensorflow.lite.Tensor;

/**
 * A tflnlu export in LiteRT: the model memory-mapped from the APK's uncompressed assets, its
 * vocabulary and labels read from the model's own metadata, one utterance per call. Not thread
 * safe: call it from one background thread.
 */
final class NluModel implements AutoCloseable {
  private static final String CUSTOM_OP = "TFLNLU_CODEBOOK_LOOKUP";
  /** One prediction and the time the model call took. */
  static final class Prediction {
    final Nlu.Encoded input;
    final Nlu.Result result;
    final long inferenceNanos;

    Prediction(Nlu.Encoded input, Nlu.Result result, long inferenceNanos) {
      this.input = input;
      this.result = result;
      this.inferenceNanos = inferenceNanos;
    }
  }

  final long modelBytes;
  private final Nlu nlu;
  private final Interpreter interpreter;
  private final TflnluDelegate delegate; // null for a builtin-op file
  private final int intentOutput;
  private final int slotOutput;
  private final float intentScale;
  private final int intentZeroPoint;

  static NluModel fromAsset(Context context, String name) throws IOException {
    // openFd only works on an uncompressed asset: app/build.gradle keeps .tflite uncompressed.
    try (AssetFileDescriptor descriptor = context.getAssets().openFd(name);
        FileInputStream stream = new FileInputStream(descriptor.getFileDescriptor())) {
      MappedByteBuffer model =
          stream.getChannel().map(FileChannel.MapMode.READ_ONLY, descriptor.getStartOffset(), descriptor.getDeclaredLength());
      return new NluModel(model, descriptor.getDeclaredLength());
    }
  }

  private NluModel(MappedByteBuffer model, long modelBytes) {
    this.modelBytes = modelBytes;
    this.nlu = new Nlu(ModelMetadata.fromTflite(model));
    Interpreter.Options options = new Interpreter.Options().setNumThreads(1);
    if (usesCustomOp(model)) { // a --lookup=custom export: the fused lookup runs on the tflnlu delegate
      if (!TflnluDelegate.available()) {
        throw new IllegalStateException(
            "the model uses the tflnlu custom op but this build has no libtflnlu_delegate.so: build with -PtflnluDelegate");
      }
      delegate = new TflnluDelegate();
      options.addDelegate(delegate);
    } else {
      delegate = null;
    }
    try {
      this.interpreter = new Interpreter(model, options);
    } catch (RuntimeException e) {
      if (delegate != null) {
        delegate.close(); // not left behind by a model the interpreter refuses
      }
      throw e;
    }
    // Outputs are told apart by rank: intent scores [1, I], slot scores [1, T, S].
    int first = interpreter.getOutputTensor(0).shape().length == 2 ? 0 : 1;
    intentOutput = first;
    slotOutput = 1 - first;
    Tensor intent = interpreter.getOutputTensor(intentOutput);
    intentScale = intent.quantizationParams().getScale();
    intentZeroPoint = intent.quantizationParams().getZeroPoint();
  }

  Prediction predict(String text) {
    Nlu.Encoded input = nlu.encode(text);
    int maxLen = nlu.metadata().maxLen;
    byte[][] intent = new byte[1][nlu.metadata().intents.size()];
    byte[][][] slots = new byte[1][maxLen][nlu.metadata().tags.size()];
    Map<Integer, Object> outputs = new HashMap<>();
    outputs.put(intentOutput, intent);
    outputs.put(slotOutput, slots);
    long started = System.nanoTime();
    interpreter.runForMultipleInputsOutputs(new Object[] {input.modelInput()}, outputs);
    long nanos = System.nanoTime() - started;
    return new Prediction(input, nlu.decode(input, intent[0], slots[0], intentScale, intentZeroPoint), nanos);
  }

  int vocabularySize() {
    return nlu.metadata().vocabulary.size();
  }

  /** Whether the flatbuffer names the fused op (its custom code string is in the file). */
  static boolean usesCustomOp(ByteBuffer model) {
    byte[] name = CUSTOM_OP.getBytes(StandardCharsets.US_ASCII);
    for (int i = 0; i + name.length <= model.limit(); i++) {
      int j = 0;
      while (j < name.length && model.get(i + j) == name[j]) {
        j++;
      }
      if (j == name.length) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void close() {
    interpreter.close();
    if (delegate != null) {
      delegate.close(); // after the interpreter that uses it
    }
  }
}
