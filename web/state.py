"""What every request of one dashboard shares: the core library, the hub, the token."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from bt import Brownthrower
from web.data import SLOW_EVERY, Every, cpu_hours
from web.hub import Hub


@dataclass
class WebState:
    """One dashboard's shared state (`request.app.state.web`)."""

    app: Brownthrower
    hub: Hub
    token: str
    dispatcher_dir: Path | None = None  #: where dispatchers keep their state (default: theirs)
    cpu_hours: Every[float] = field(init=False)

    def __post_init__(self) -> None:
        app = self.app
        self.cpu_hours = Every(SLOW_EVERY, lambda: cpu_hours(app))
