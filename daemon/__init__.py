"""The daemon: camera frames to counted reps to MQTT. Never imports TensorFlow."""
