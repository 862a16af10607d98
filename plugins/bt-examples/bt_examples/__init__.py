"""Example brownthrower tasks, registered through the `brownthrower.task` entry points."""
