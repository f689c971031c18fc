"""The live page: its server, its data, its token, the camera's placement."""
