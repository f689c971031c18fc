"""The keypoint classifier: the causal window's features in, ``neither`` / ``<exercise>_<phase>`` out.

A small MLP; the features' standardisation (the training set's mean and variance) is its first
layer, so convert bakes it into the IR and the daemon feeds the raw features
(``core.keypoint_features``) as they come.
"""

from __future__ import annotations

import numpy as np

from .. import keras_import

NAME = "homegym_keypoints"


def build(labels: tuple[str, ...], mean: np.ndarray, variance: np.ndarray, hidden: tuple[int, ...] = (96, 48),
          dropout: float = 0.3, l2: float = 1e-4):
    """Input (N, features) float32 -> softmax over ``labels``."""
    keras = keras_import.keras()
    inp = keras.Input((len(mean),), name="features")
    x = keras.layers.Normalization(mean=mean, variance=np.maximum(variance, 1e-6), name="standardise")(inp)
    for i, units in enumerate(hidden):
        x = keras.layers.Dense(units, activation="relu", kernel_regularizer=keras.regularizers.l2(l2), name=f"dense{i}")(x)
        x = keras.layers.Dropout(dropout, name=f"dropout{i}")(x)
    out = keras.layers.Dense(len(labels), activation="softmax", name="phase")(x)
    return keras.Model(inp, out, name=NAME)


def average(models: list):
    """One model whose output is the mean of ``models``' (an ensemble: the seeds' disagreements average out)."""
    if len(models) == 1:
        return models[0]
    keras = keras_import.keras()
    inp = keras.Input(models[0].input_shape[1:], name="features")
    outs = [keras.Model(m.input, m.output, name=f"member{i}")(inp) for i, m in enumerate(models)]
    return keras.Model(inp, keras.layers.Average(name="mean")(outs), name=NAME)
