"""The day-ahead plan: when to charge from the grid, when to hold, when to discharge (``plan.planner``)."""
