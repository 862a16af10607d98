"""The shell's command sets, one per noun; `shell.app.command_sets` registers them."""
