"""SmartSofar: a zero-export controller for Sofar ME3000SP battery inverters."""

__version__ = "0.1.0"
