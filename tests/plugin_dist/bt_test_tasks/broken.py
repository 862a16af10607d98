"""A task plugin that fails to import, as a broken third-party plugin would."""

from __future__ import annotations

raise ImportError("this plugin is broken on purpose")
