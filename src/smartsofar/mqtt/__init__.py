"""MQTT: state and events out, commands in, and Home Assistant discovery."""
