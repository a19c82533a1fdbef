"""What an ME3000SP accepts: the largest power a 0x42 command may ask, and the largest auto-mode target.

Plain numbers, shared by the command validation (``sofar.passive``) and the configuration's limits.
"""

MAX_UNIT_POWER_W = 3000  # charge or discharge, per unit
MAX_AUTO_TARGET_W = 9999  # the inverter's own auto mode (0x0103)
