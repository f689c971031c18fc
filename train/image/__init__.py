"""The image classifier: MobileNetV2 on frames, their decoding, augmentation and fitting."""
