"""HomeGym Spotter: counts push-ups and squats from a camera and publishes each rep over MQTT.

The package is one namespace over three programs: ``homegym.train`` (TensorFlow),
``homegym.convert`` (Keras to OpenVINO) and ``homegym.daemon`` (OpenVINO only).
This top level holds only what all three share and must stay free of TensorFlow.
"""

__version__ = "0.1.0"
