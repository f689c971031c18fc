"""Keras model to an OpenVINO model with the preprocessing baked in (OpenVINO's PrePostProcessor).

In: a static batch of uint8 BGR NHWC frames at the working size. Inside: to f32,
BGR to RGB, a linear resize to the network's size; the Keras model itself then does
MobileNetV2's scaling. The daemon never re-implements any of it.
"""

from __future__ import annotations

import warnings

from homegym.core.model_info import ModelInfo


def build(keras_model, info: ModelInfo):
    import openvino as ov
    from openvino.preprocess import ColorFormat, PrePostProcessor, ResizeAlgorithm

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras warns about input-structure naming while tracing
        model = ov.convert_model(keras_model)
    s = info.input_size
    model.reshape({model.input(0).get_any_name(): ov.PartialShape([info.batch, s, s, 3])})
    w, h = info.working_size
    ppp = PrePostProcessor(model)
    ppp.input().tensor().set_element_type(ov.Type.u8).set_layout(ov.Layout("NHWC")).set_shape([info.batch, h, w,
                                                                                               3]).set_color_format(ColorFormat.BGR)
    ppp.input().model().set_layout(ov.Layout("NHWC"))
    steps = ppp.input().preprocess().convert_element_type(ov.Type.f32).convert_color(ColorFormat.RGB)
    if (w, h) != (s, s):
        steps.resize(ResizeAlgorithm.RESIZE_LINEAR, s, s)
    model = ppp.build()
    model.input(0).get_tensor().set_names({"frames"})
    model.output(0).get_tensor().set_names({"probabilities"})
    info.write(model)
    return model
