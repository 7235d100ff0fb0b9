"""The emulation never imports Textual: only rcnlab.tui may (import-linter states the
same rule in pyproject.toml; this imports every other module for real)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import rcnlab

PACKAGE = Path(rcnlab.__file__).resolve().parent


def non_tui_modules() -> list[str]:
    names = []
    for path in sorted(PACKAGE.rglob("*.py")):
        parts = ("rcnlab", *path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[1] in ("tui", "__main__"):
            continue
        names.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return names


def test_no_module_outside_the_tui_imports_textual():
    modules = non_tui_modules()
    assert len(modules) > 40 and "rcnlab.cli" in modules and "rcnlab.world" in modules
    code = ("import sys\n" + "".join(f"import {m}\n" for m in modules)
            + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
