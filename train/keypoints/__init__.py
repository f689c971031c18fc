"""The keypoint classifier: keypoint files to features and labels, augmentation, the MLP, cross-validated fitting."""
