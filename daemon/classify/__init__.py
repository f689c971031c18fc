"""The classifiers: one interface, the image and keypoint kinds, the factory by the IR's kind."""
