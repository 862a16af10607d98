"""A script needs only `import bt`: the client, every value type and the errors are there."""

from __future__ import annotations

import dataclasses
import subprocess
import sys

import bt
from bt import values


def test_every_name_bt_exports_resolves() -> None:
    assert all(getattr(bt, name) is not None for name in bt.__all__)


def test_every_value_type_is_exported_by_bt() -> None:
    types = {n for n, v in vars(values).items() if dataclasses.is_dataclass(v)}
    assert types <= set(bt.__all__), sorted(types - set(bt.__all__))


def test_values_do_not_import_sqlalchemy() -> None:
    code = "import bt.values, sys; print('sqlalchemy' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
