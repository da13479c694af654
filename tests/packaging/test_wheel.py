"""The wheel an operator installs carries the code's data files, the systemd units and the docs."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_wheel_holds_units_docs_templates_and_migrations(tmp_path: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--wheel-dir", str(tmp_path),
                    str(ROOT)], check=True, capture_output=True, timeout=300)
    (wheel,) = tmp_path.glob("kuaijian-*-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    data = next(n.split("/")[0] for n in names if n.endswith(".data/data/share/doc/kuaijian/operations.md"))
    units = {p.name for p in (ROOT / "packaging").iterdir() if p.suffix in (".service", ".timer")}
    docs = {p.relative_to(ROOT / "docs").as_posix() for p in (ROOT / "docs").rglob("*.md")}
    assert {f"{data}/data/share/kuaijian/packaging/{u}" for u in units} <= names
    assert {f"{data}/data/share/doc/kuaijian/{d}" for d in docs} <= names
    assert "kuaijian-lims.service" in units and "operations.md" in docs
    found = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]["packages"]["find"]
    packages = [pattern.rstrip("*") for pattern in found["include"]]
    tracked = subprocess.run(["git", "ls-files", *packages], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split()
    assert any(name.endswith(".html") for name in tracked) and any(name.endswith(".toml") for name in tracked)
    assert set(tracked) - names == set()  # every source, template, style sheet, script, profile, migration
