"""Augmentation in the input pipeline (never in the saved model): the seed's rotation, shear and
brightness, plus flips, zoom and crops, and contrast; and a background swap where person masks are
known (the random ops draw from TensorFlow's global seed, which training sets)."""

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


def background_swap(plates, probability: float):
    """A tf.data map for batches of RGB frames with their person mask as a 4th channel: each frame,
    with the given probability, gets its person (the mask, 0..255) put in front of a random plate
    (``dataset.background_plates``: a training room with its own person painted out); returns the
    3-channel frames. A frame whose mask is full (no mask known) comes out as it went in."""
    import tensorflow as tf

    plates = tf.constant(plates, tf.float32)

    def swap(batch):
        frames, mask = batch[..., :3], batch[..., 3:] / 255.0
        n = tf.shape(batch)[0]
        chosen = tf.gather(plates, tf.random.uniform([n], 0, tf.shape(plates)[0], dtype=tf.int32))
        on = tf.cast(tf.random.uniform([n, 1, 1, 1]) < probability, tf.float32)
        return frames * (1.0 - on * (1.0 - mask)) + chosen * on * (1.0 - mask)

    return swap
