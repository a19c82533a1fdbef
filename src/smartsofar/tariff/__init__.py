"""Electricity prices over time: what importing and exporting a kWh costs, when (``tariff.prices``)."""
