"""The dependency direction is enforced by import-linter (contracts in .importlinter)."""

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINT = str(Path(sys.executable).with_name("lint-imports"))
LIMS_DOMAINS = ("core", "ingest", "audit", "people", "followup", "evidence", "pages")
PACKAGES = ("protocols", "drivers", "gateway", "lims_api", "firmware_sim", "kuaijian", "bench")


def _lint(cwd: Path) -> tuple[int, str]:
    result = subprocess.run([LINT, "--config", str(cwd / ".importlinter"), "--no-cache"], cwd=cwd,
                            capture_output=True, text=True, env={"PYTHONPATH": str(cwd), "PATH": "/usr/bin:/bin"})
    text = re.sub(r"\x1b\[[0-9;]*m", "", result.stdout + result.stderr)
    return result.returncode, re.sub(r"[ \t]+", " ", text)


def test_repository_keeps_every_contract():
    code, text = _lint(ROOT)
    assert code == 0, text
    assert "9 kept, 0 broken" in text


def test_a_forbidden_import_is_caught(tmp_path):
    for package in PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    for domain in LIMS_DOMAINS:
        (tmp_path / "lims_api" / domain).mkdir()
        (tmp_path / "lims_api" / domain / "__init__.py").write_text("")
    (tmp_path / "lims_api" / "app.py").write_text("")
    shutil.copy(ROOT / ".importlinter", tmp_path / ".importlinter")
    (tmp_path / "firmware_sim" / "cheat.py").write_text("import protocols\n")
    (tmp_path / "lims_api" / "cheat.py").write_text("from gateway import x\n")
    (tmp_path / "gateway" / "cheat.py").write_text("import kuaijian\n")
    (tmp_path / "kuaijian" / "cheat.py").write_text("import bench\n")
    (tmp_path / "lims_api" / "core" / "cheat.py").write_text("import lims_api.people\n")
    (tmp_path / "lims_api" / "audit" / "cheat.py").write_text("from lims_api.pages import x\n")
    (tmp_path / "lims_api" / "ingest" / "cheat.py").write_text("import lims_api.followup\nimport lims_api.evidence\n")
    code, text = _lint(tmp_path)
    assert code != 0
    assert "firmware_sim imports none of our packages BROKEN" in text
    assert "lims_api imports only protocols BROKEN" in text
    assert "gateway and drivers never import lims_api or firmware_sim (nor kuaijian or bench) BROKEN" in text
    assert "the composition root (kuaijian) never imports bench BROKEN" in text
    assert "lims_api.core imports no LIMS domain BROKEN" in text
    assert "LIMS domains never import lims_api.pages (pages read every domain) BROKEN" in text
    assert "lims_api.ingest never imports lims_api.followup (follow-up hooks onto ingest) BROKEN" in text
    assert "lims_api.ingest never imports lims_api.evidence (plausibility flags hook onto ingest) BROKEN" in text
