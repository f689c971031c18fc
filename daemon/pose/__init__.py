"""The pose stage: detector, landmarks, crop, smoothing, the tracking loop, keypoint files, drawing."""
