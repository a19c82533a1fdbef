"""The site engine: the control loop, its units, modes, commands, snapshots and publish/subscribe hub."""
