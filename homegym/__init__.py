"""HomeGym Spotter: counts push-ups and squats from a camera and publishes each rep over MQTT.

One namespace over three programs, ``homegym.train`` (TensorFlow), ``homegym.convert``
(to OpenVINO) and ``homegym.daemon`` (OpenVINO only), whose folders stand at the top
of the checkout and are linked in here; ``homegym.core`` is what all three share,
``homegym.measure`` scores and times the daemon, ``homegym.cli`` is the command.
docs/architecture.md maps every file.
"""

__version__ = "0.1.0"
