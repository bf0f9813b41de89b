package dev.tflnlu.demo;

import android.app.Activity;
import android.graphics.Color;
import android.os.Bundle;
import android.text.SpannableString;
import android.text.Spanned;
import android.text.style.BackgroundColorSpan;
import android.view.inputmethod.EditorInfo;
import android.widget.Button;
import android.widget.EditText;
import android.widget.TextView;
import dev.tflnlu.core.BioDecoder;
import java.util.Locale;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/** One screen: type an utterance, see its intent, its slots highlighted, and the cost. */
public final class MainActivity extends Activity {
  private static final String MODEL_ASSET = "model.tflite";
  private static final int[] SLOT_COLORS = {0xFFFFE082, 0xFFA5D6A7, 0xFF90CAF9, 0xFFF48FB1, 0xFFCE93D8};

  // The model is loaded and run off the UI thread, always on this one thread.
  private final ExecutorService worker = Executors.newSingleThreadExecutor();
  private NluModel model;
  private EditText utterance;
  private Button run;
  private TextView intent;
  private TextView highlighted;
  private TextView slots;
  private TextView stats;

  @Override
  protected void onCreate(Bundle savedInstanceState) {
    super.onCreate(savedInstanceState);
    setContentView(R.layout.activity_main);
    utterance = findViewById(R.id.utterance);
    run = findViewById(R.id.run);
    intent = findViewById(R.id.intent);
    highlighted = findViewById(R.id.highlighted);
    slots = findViewById(R.id.slots);
    stats = findViewById(R.id.stats);
    run.setOnClickListener(v -> understand());
    utterance.setOnEditorActionListener(
        (v, action, event) -> {
          if (action == EditorInfo.IME_ACTION_DONE && run.isEnabled()) {
            understand();
            return true;
          }
          return false;
        });
    worker.execute(this::loadModel);
  }

  private void loadModel() {
    try {
      NluModel loaded = NluModel.fromAsset(this, MODEL_ASSET);
      runOnUiThread(
          () -> {
            model = loaded;
            run.setEnabled(true);
            stats.setText(
                String.format(Locale.ROOT, "model %,d bytes, %,d words", loaded.modelBytes, loaded.vocabularySize()));
          });
    } catch (Exception e) { // a missing, compressed or foreign model: say so on screen
      runOnUiThread(() -> stats.setText("Cannot load " + MODEL_ASSET + ": " + e.getMessage()));
    }
  }

  private void understand() {
    String text = utterance.getText().toString();
    worker.execute(
        () -> {
          NluModel.Prediction prediction = model.predict(text);
          runOnUiThread(() -> show(prediction));
        });
  }

  private void show(NluModel.Prediction prediction) {
    intent.setText(
        String.format(Locale.ROOT, "%s  (%.0f%%)", prediction.result.intent, 100 * prediction.result.intentProbability));
    String normalized = prediction.input.normalized;
    SpannableString spans = new SpannableString(normalized);
    StringBuilder list = new StringBuilder();
    int color = 0;
    for (BioDecoder.Slot slot : prediction.result.slots) {
      // Token offsets count code points; Android spans count UTF-16 chars.
      int start = normalized.offsetByCodePoints(0, prediction.input.tokens.get(slot.start).start);
      int end = normalized.offsetByCodePoints(0, prediction.input.tokens.get(slot.end - 1).end);
      spans.setSpan(new BackgroundColorSpan(SLOT_COLORS[color++ % SLOT_COLORS.length]), start, end, Spanned.SPAN_EXCLUSIVE_EXCLUSIVE);
      list.append(slot.type).append(": ").append(slot.text).append('\n');
    }
    highlighted.setText(spans);
    highlighted.setTextColor(Color.BLACK);
    slots.setText(list.length() == 0 ? "no slots" : list.toString().trim());
    stats.setText(
        String.format(
            Locale.ROOT,
            "inference %.2f ms · model %,d bytes · %d tokens",
            prediction.inferenceNanos / 1e6,
            model.modelBytes,
            prediction.input.tokens.size()));
  }

  @Override
  protected void onDestroy() {
    worker.execute(
        () -> {
          if (model != null) {
            model.close();
          }
        });
    worker.shutdown();
    super.onDestroy();
  }
}
