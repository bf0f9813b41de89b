"""The deploy side: running an exported .tflite with numpy and LiteRT only (never TensorFlow)."""

from tflnlu.runtime.parser import Parse, Parser, Slot

__all__ = ["Parse", "Parser", "Slot"]
