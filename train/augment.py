"""Augmentation in the input pipeline (never in the saved model): the seed's rotation, shear and
brightness, plus flips, zoom and crops, and contrast."""

from __future__ import annotations


def pipeline(seed: int):
    """A Keras layer stack applied to batches in tf.data; label-preserving for these postures."""
    import keras

    return keras.Sequential(
        [
            keras.layers.RandomFlip("horizontal", seed=seed),
            keras.layers.RandomRotation(0.04, fill_mode="reflect", seed=seed + 1),
            keras.layers.RandomShear(x_factor=0.15, y_factor=0.1, fill_mode="reflect", seed=seed + 2),
            keras.layers.RandomZoom((-0.25, 0.15), fill_mode="reflect", seed=seed + 3),
            keras.layers.RandomTranslation(0.1, 0.1, fill_mode="reflect", seed=seed + 4),
            keras.layers.RandomBrightness(0.3, value_range=(0, 255), seed=seed + 5),
            keras.layers.RandomContrast(0.3, value_range=(0, 255), seed=seed + 6),
        ],
        name="augment",
    )
