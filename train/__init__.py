"""Training: datasets, labelling tools, rendered clips, the MobileNetV2 model, fitting and its report.

Only the modules that fit or evaluate a model import TensorFlow, and they do it
lazily, so the labelling tools and the renderer work from the daemon's install.
"""
