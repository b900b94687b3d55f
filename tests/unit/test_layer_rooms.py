"""The layer's rooms: imports point one way, and no module grows past what a reader takes in at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.no_aws  # touches no AWS: the unit tier's moto set-up is skipped

LAYER = Path(__file__).resolve().parents[2] / "layers" / "switchboard" / "switchboard"
ROOMS = ("core", "rules", "data", "flows", "edge", "aws", "carrier")
# What each room may import from the others; anything else points the wrong way.
MAY_IMPORT = {
    "core": {"core"},
    "rules": {"core", "rules"},
    "carrier": {"core", "carrier"},
    "aws": {"core", "rules", "aws"},
    "data": {"core", "rules", "data", "aws"},
    "flows": {"core", "rules", "data", "aws", "carrier", "flows"},
    "edge": {"core", "rules", "carrier", "edge"},
}
MAX_LINES = 300


def _modules() -> list[Path]:
    return sorted(p for p in LAYER.rglob("*.py") if "__pycache__" not in p.parts)


def _imported_rooms(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = [a.name for a in node.names] if isinstance(node, ast.Import) else []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module] if node.module != "switchboard" else [f"switchboard.{a.name}" for a in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "switchboard" and len(parts) > 1 and parts[1] in ROOMS:
                found.add(parts[1])
    return found


def test_every_module_lives_in_a_room() -> None:
    loose = [p.name for p in LAYER.glob("*.py") if p.name != "__init__.py"]
    assert loose == [], f"modules outside core/ rules/ data/ flows/ edge/ aws/ carrier/: {loose}"


@pytest.mark.parametrize("path", _modules(), ids=lambda p: str(p.relative_to(LAYER)))
def test_imports_point_one_way(path: Path) -> None:
    room = path.relative_to(LAYER).parts[0]
    if room not in MAY_IMPORT:
        return
    wrong = _imported_rooms(path) - MAY_IMPORT[room]
    assert not wrong, f"{path.relative_to(LAYER)} ({room}/) imports from {sorted(wrong)}/"


def test_no_module_of_the_layer_is_over_300_lines() -> None:
    long = {str(p.relative_to(LAYER)): n for p in _modules() if (n := len(p.read_text().splitlines())) > MAX_LINES}
    assert long == {}, f"split these by concern: {long}"
