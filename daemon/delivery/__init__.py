"""What leaves the box and what survives a restart: the outbox, the state store, MQTT."""
