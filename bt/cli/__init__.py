"""Command-line entry points of the core programs (`bt-runner`)."""
