"""The daemon's settings: config.yaml's models, loading and validation."""
