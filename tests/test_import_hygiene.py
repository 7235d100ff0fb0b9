"""The emulation never imports Textual: only rcnlab.tui may."""

from __future__ import annotations

import subprocess
import sys

CORE = ["rcnlab.cli", "rcnlab.emu.network", "rcnlab.lab", "rcnlab.ops.registry", "rcnlab.scenario.runner",
        "rcnlab.summary", "rcnlab.report"]


def test_core_modules_do_not_import_textual():
    code = ("import sys\n" + "".join(f"import {m}\n" for m in CORE)
            + "bad = sorted(m for m in sys.modules if m == 'textual' or m.startswith('textual.'))\n"
            "print(','.join(bad))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == ""
