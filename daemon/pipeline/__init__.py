"""The loop that moves frames through the stages, what it tells its runner, its figures."""
