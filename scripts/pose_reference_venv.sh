#!/usr/bin/env bash
# A venv holding MediaPipe's own Python solution, the reference the pose stage is measured against
# (homegym/measure/pose_reference.py; docs/pose.md). Never the daemon's venv: mediapipe 0.10.14
# pins protobuf < 5 and brings opencv-contrib-python into the same cv2/ folder as opencv-python.
# Only what `mediapipe.solutions.pose` imports is installed (not jax, jaxlib or sounddevice, which
# the wheel lists for other solutions), with one OpenCV package at one version.
#   scripts/pose_reference_venv.sh /tmp/mp-venv && /tmp/mp-venv/bin/python -c "import mediapipe"
set -euo pipefail
dir=${1:?usage: $0 VENV_DIR}
python3 -m venv "$dir"
"$dir/bin/pip" install -q --no-deps "mediapipe==0.10.14"
"$dir/bin/pip" install -q "absl-py==2.*" "attrs>=19.1" "flatbuffers>=2.0" "numpy<2" "protobuf>=4.25.3,<5" \
    "opencv-contrib-python==4.11.0.86" "matplotlib<4"
"$dir/bin/python" -c "import mediapipe as mp; mp.solutions.pose.Pose" >/dev/null
echo "$dir: mediapipe $("$dir/bin/python" -c 'import mediapipe as mp; print(mp.__version__)')"
