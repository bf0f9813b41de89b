"""One check for every tflnlu layer (the keras-hub pattern): it builds, its config rebuilds an
equal layer (through Keras' own serialize / deserialize, i.e. JSON-safe), and the rebuilt
layer with the same weights gives the same output, exactly."""

from __future__ import annotations

import json

import numpy as np

from tflnlu.tf import keras


def run_layer_test(layer: keras.layers.Layer, inputs, **call_kwargs) -> np.ndarray:
    """Returns the layer's output; fails if any of the checks above does not hold."""
    expected = layer(inputs, **call_kwargs)
    config = keras.layers.serialize(layer)
    json.dumps(config)  # a config that is not JSON cannot be saved with the model
    rebuilt = keras.layers.deserialize(config, custom_objects={type(layer).__name__: type(layer)})
    assert type(rebuilt) is type(layer) and rebuilt.get_config() == layer.get_config()
    rebuilt(inputs, **call_kwargs)  # build
    assert [w.shape for w in rebuilt.weights] == [w.shape for w in layer.weights]
    rebuilt.set_weights(layer.get_weights())
    np.testing.assert_array_equal(rebuilt(inputs, **call_kwargs).numpy(), expected.numpy())
    return expected.numpy()
