"""What every part shares (labels, manifests, video, the IR's contract, errors): NumPy, OpenCV and OpenVINO only,
and nothing from the parts above it (the layers contract in pyproject.toml holds that)."""
