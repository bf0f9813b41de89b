#!/bin/sh
# Copy a tflnlu export's model into the app's assets (what `-PtflnluExport=DIR` does in Gradle).
# Usage: android_demo/copy_model.sh out/hwu64 [--with-delegate]
set -eu
export_dir=${1:?usage: copy_model.sh EXPORT_DIR [--with-delegate]}
model="$export_dir/model.tflite"
[ -f "$model" ] || { echo "copy_model.sh: no model.tflite in $export_dir: run tflnlu-export --out=$export_dir first" >&2; exit 2; }
# A custom-op export needs the delegate library in the app: built by Gradle with
# -PtflnluDelegate, or put in app/src/main/jniLibs/<abi>/ by hand; say which with --with-delegate.
if grep -q TFLNLU_CODEBOOK_LOOKUP "$model" && [ "${2:-}" != "--with-delegate" ]; then
  echo "copy_model.sh: $model uses the tflnlu custom op: pass --with-delegate (and build the app with -PtflnluDelegate), or export with --lookup=builtin" >&2
  exit 2
fi
assets="$(dirname "$0")/app/src/main/assets"
mkdir -p "$assets"
cp "$model" "$assets/model.tflite.tmp" && mv "$assets/model.tflite.tmp" "$assets/model.tflite"
echo "copied $model ($(wc -c < "$model") bytes) to $assets/model.tflite"
