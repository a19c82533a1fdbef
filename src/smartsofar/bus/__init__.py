"""RS485 buses: transports, framing, and the one object that owns each line."""
