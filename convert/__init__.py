"""Keras model to OpenVINO IR (issue: convert)."""
