"""Simulated peers for tests and the demo: the battery and household model, an ME3000 bus, a Shelly meter."""
