"""Pure control decisions: the power model, the tracking law, allocation across units and safety rules."""
