#!/usr/bin/env bash
# A venv holding MediaPipe's own Python solution, the reference the pose stage is measured against
# (homegym/measure/pose_reference.py; docs/pose.md). Never the daemon's venv: mediapipe 0.10.14
# pins protobuf < 5 and brings opencv-contrib-python into the same cv2/ folder as opencv-python.
# Only what `mediapipe.solutions.pose` imports is installed (not jax, jaxlib or sounddevice, which
# the wheel lists for other solutions), with one OpenCV package at one version. MediaPipe downloads its lite and
# heavy landmark models at run time (model_complexity 0 and 2), which cannot work offline: the npm package
# @mediapipe/pose holds both, and they go where mediapipe looks for them (npm is needed for that step only).
#   scripts/pose_reference_venv.sh /tmp/mp-venv && /tmp/mp-venv/bin/python -c "import mediapipe"
set -euo pipefail
dir=${1:?usage: $0 VENV_DIR}
python3 -m venv "$dir"
"$dir/bin/pip" install -q --no-deps "mediapipe==0.10.14"
"$dir/bin/pip" install -q "absl-py==2.*" "attrs>=19.1" "flatbuffers>=2.0" "numpy<2" "protobuf>=4.25.3,<5" \
    "opencv-contrib-python==4.11.0.86" "matplotlib<4"
"$dir/bin/python" -c "import mediapipe as mp; mp.solutions.pose.Pose" >/dev/null
models=$("$dir/bin/python" -c "import mediapipe, pathlib; print(pathlib.Path(mediapipe.__file__).parent / 'modules/pose_landmark')")
if command -v npm >/dev/null; then
    tmp=$(mktemp -d)
    (cd "$tmp" && npm pack -q @mediapipe/pose@0.5.1675469404 >/dev/null && tar xzf mediapipe-pose-0.5.1675469404.tgz \
        package/pose_landmark_lite.tflite package/pose_landmark_heavy.tflite)
    cp "$tmp"/package/pose_landmark_{lite,heavy}.tflite "$models/"
    rm -rf "$tmp"
else
    echo "$dir: no npm here, so model_complexity 0 and 2 (lite, heavy) will not work offline" >&2
fi
echo "$dir: mediapipe $("$dir/bin/python" -c 'import mediapipe as mp; print(mp.__version__)')"
