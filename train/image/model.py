"""The seed's model: a frozen Keras MobileNetV2 base plus Dropout 0.2, Dense ReLU, Dropout 0.2, softmax.

The model takes RGB frames at its input size with values 0..255 and does
MobileNetV2's scaling itself, so what convert bakes in front of it is only the
resize and the BGR to RGB swap.
"""

from __future__ import annotations

from pathlib import Path

from homegym.core.errors import UserError

from .. import keras_import

BASE_NAME = "mobilenetv2"
HEAD_NAME = "head"
SCALING_NAME = "mobilenet_scaling"


def resolve_weights(weights: str, alpha: float) -> str | None:
    """``imagenet`` (Keras' download and ~/.keras/models cache), ``none``, or a local ``.weights.h5`` file."""
    if weights == "imagenet":
        return "imagenet"
    if weights == "none":
        return None
    path = Path(weights).expanduser()
    if not path.exists():
        raise UserError(f"weights file not found: {path} (use 'imagenet', 'none' or a path)")
    if not path.name.endswith(".weights.h5"):
        raise UserError(f"weights file {path} must be a Keras '.weights.h5' file")
    return str(path)


def build(labels: tuple[str, ...], size: int, alpha: float, weights: str, dense: int = 128, dropout: float = 0.2):
    """Input (N, size, size, 3) RGB 0..255 -> softmax over ``labels``."""
    keras = keras_import.keras()

    w = resolve_weights(weights, alpha)
    try:
        base = keras.applications.MobileNetV2(
            input_shape=(size, size, 3), alpha=alpha, include_top=False, weights=w, pooling="avg", name=BASE_NAME
        )
    except (ValueError, OSError) as e:
        msg = str(e).splitlines()[0][:200]
        raise UserError(f"cannot load MobileNetV2 weights {weights!r} for alpha={alpha}, size={size}: {msg}") from None
    base.trainable = False
    head = keras.Sequential(
        [
            keras.layers.Input((base.output_shape[-1],)),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(dense, activation="relu"),
            keras.layers.Dropout(dropout),
            keras.layers.Dense(len(labels), activation="softmax"),
        ],
        name=HEAD_NAME,
    )
    inp = keras.Input((size, size, 3), name="frames")
    x = keras.layers.Rescaling(1 / 127.5, offset=-1.0, name=SCALING_NAME)(inp)
    x = base(x, training=False)  # BatchNorm stays in inference mode, also when the top is unfrozen
    out = head(x)
    return keras.Model(inp, out, name="homegym_mobilenetv2")


def unfreeze(model, top_layers: int | None) -> int:
    """Make the top ``top_layers`` of the base trainable (None: all), BatchNorm kept frozen; returns the count."""
    import keras

    base = model.get_layer(BASE_NAME)
    base.trainable = True
    layers = base.layers if top_layers is None else base.layers[-top_layers:]
    for layer in base.layers:
        layer.trainable = False
    n = 0
    for layer in layers:
        if not isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = True
            n += 1
    return n


POSE_HEAD_NAME = "pose"


def with_pose_head(model, n_targets: int):
    """A training-only twin of ``model`` that also regresses ``n_targets`` joint angles from the base's
    pooled features; it shares every layer with ``model``, which is what gets saved and shipped.

    The pose loss pulls the base toward the body's shape (where the elbows and knees bend) and away
    from what else tells the training clips apart (the room, the clothes)."""
    keras = keras_import.keras()

    inp = model.input
    feats = model.get_layer(BASE_NAME)(model.get_layer(SCALING_NAME)(inp), training=False)
    cls = model.get_layer(HEAD_NAME)(feats)
    pose = keras.layers.Dense(n_targets, name=POSE_HEAD_NAME)(feats)
    return keras.Model(inp, [cls, pose], name="homegym_mobilenetv2_pose")


def weighted_crossentropy(class_weights):
    """Categorical cross-entropy with a weight per true class (Keras' class_weight, which it only
    supports for single-output models)."""
    import tensorflow as tf

    w = tf.constant(class_weights, tf.float32)

    def loss(y_true, y_pred):
        ce = -tf.reduce_sum(y_true * tf.math.log(tf.clip_by_value(y_pred, 1e-7, 1.0)), axis=-1)
        return ce * tf.reduce_sum(y_true * w, axis=-1)

    return loss


def masked_mse(y_true, y_pred):
    """Mean squared error over the known targets only: ``y_true`` holds the values then their 0/1 mask."""
    import tensorflow as tf

    n = tf.shape(y_pred)[-1]
    values, mask = y_true[..., :n], y_true[..., n:]
    se = tf.reduce_sum(mask * tf.square(values - y_pred), axis=-1)
    return se / tf.maximum(tf.reduce_sum(mask, axis=-1), 1.0)
