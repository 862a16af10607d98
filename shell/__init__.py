"""The `(brownthrower):` shell: a thin cmd2 adapter over the core library `bt`."""
