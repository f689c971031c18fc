#!/usr/bin/env bash
# Reproduces the shipped default model (daemon/models/default): the keypoint classifier of the eight exercises on
# the pose stage, from ../shared/data and rendered clips. Needs the train extra (pip install -e ".[train]").
# On 2 CPU cores: the pose stage over the 264 clips takes about 20 min the first time (cached in $KEYS, kept
# across runs), the rest about 15 min.
#
#   1. the pose stage over every clip, as the daemon runs it (homegym poses: 15 frames a second; the full landmark model,
#      the default, in f32; POSE_MODEL=lite for the lite one)
#   2. rendered clips (homegym synth) through the same stage: the README's demo clip is a rendered clip, and the
#      stage sees the rendered figure otherwise than a person
#   3. training: labels by label --from-reps's rule on those keypoints; cross-validation by source on the train
#      split (the honest figures, oof.npz), then the shipped model on all of it
#   4. each exercise's counter settings, chosen on the out-of-fold probabilities of the train split and the keypoints
#      they came from, with the fewest reps wrong (homegym tune --oof --tracks --grid exercise; config.yaml's
#      counter.per_exercise holds the chosen ones: daemon/config/settings.py PER_EXERCISE)
#   5. convert to an FP16 IR, checked against Keras; evaluate on the eval split (frame truth: the label rule on
#      the pose stage's keypoints); copy into the package
set -euo pipefail
cd "$(dirname "$0")/.."
DATA=${DATA:-../shared/data}
RUN=${RUN:-runs/default}
POSE_MODEL=${POSE_MODEL:-full}  # the landmark model whose keypoints the classifier learns (pose.model; lite: docs/model-card.md)
KEYS=${KEYS:-${XDG_CACHE_HOME:-$HOME/.cache}/homegym/poses$([ "$POSE_MODEL" = full ] || echo "-$POSE_MODEL")}
SEED=${SEED:-0}
mkdir -p "$RUN"
# config.yaml with the pose stage in f32 (pose.precision auto would take bf16 on some CPUs: the recipe's figures are
# the same on every machine)
sed -e "s/^  model: full$/  model: $POSE_MODEL/" -e "s/^  precision: auto$/  precision: f32/" config.yaml > "$RUN/config.yaml"

homegym poses "$DATA/clips.csv" -o "$KEYS" --config "$RUN/config.yaml"
homegym synth "$RUN/synth" --count 72 --seed 1000 --duration 8
homegym poses "$RUN/synth/clips.csv" -o "$RUN/synth-keys" --config "$RUN/config.yaml"
homegym train "$DATA/clips.csv" "$RUN/synth/clips.csv" --tracks "$KEYS" "$RUN/synth-keys" -o "$RUN/train" \
    --exercises all --postures out --views 0 --ensemble 3 --folds 5 --epochs 30 --seed "$SEED"
homegym tune "$DATA/clips.csv" --split train --oof "$RUN/train/oof.npz" --tracks "$KEYS" --config "$RUN/config.yaml" --grid exercise --json > "$RUN/tune.json"
homegym tune "$DATA/clips.csv" --split train --oof "$RUN/train/oof.npz" --tracks "$KEYS" --config "$RUN/config.yaml" --grid exercise
homegym convert "$RUN/train/model.keras" -o "$RUN/ir" --precision fp16
homegym eval "$DATA/clips.csv" --split eval --model "$RUN/ir" --config "$RUN/config.yaml" --tracks "$KEYS" --out "$RUN/eval"

mkdir -p daemon/models/default
cp "$RUN/ir/model.xml" "$RUN/ir/model.bin" "$RUN/ir/convert_report.json" "$RUN/ir/train_report.json" daemon/models/default/
cp "$RUN/eval/eval.json" daemon/models/default/eval_report.json
cp "$RUN/tune.json" daemon/models/default/tune_report.json
echo "shipped $RUN/ir as daemon/models/default"
