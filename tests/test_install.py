"""A normal install (``pip install .``, not ``-e``) works from anywhere: the shipped
topologies, scenarios and walkthroughs are inside the package, found by name.

The package is built from a copy of the checkout's shipped files (no stale ``build/``)
and installed into a fresh venv in a temporary folder, without its dependencies: those
come from this test's own environment through a ``.pth`` line, so the test costs one
wheel build and no downloads. Every command then runs from a folder outside the checkout.
"""

from __future__ import annotations

import json
import os
import shutil
import site
import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest

from tests.helpers import ROOT

#: What a clone holds that the build reads.
SOURCES = ("pyproject.toml", "README.md", "rcnlab", "topologies")


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the fresh venv's bin folder, a folder outside the checkout to run in)."""
    tmp = tmp_path_factory.mktemp("install")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, symlinks=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(ROOT / name, src / name)
    env_dir = tmp / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    purelib = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # the dependencies, from this environment (a .pth line adds a folder, not its own .pth files)
    Path(purelib, "deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps", str(src)],
                   check=True, capture_output=True)
    elsewhere = tmp / "elsewhere"
    elsewhere.mkdir()
    return env_dir / "bin", elsewhere


def start(installed: tuple[Path, Path], *args: str, stdout: int = subprocess.PIPE) -> subprocess.Popen[str]:
    """``rcnlab ARGS`` in the fresh venv, from outside the checkout, with no terminal."""
    bin_dir, cwd = installed
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.Popen([bin_dir / "rcnlab", *args], cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                            stdout=stdout, stderr=subprocess.PIPE, text=True)


def rcnlab(installed: tuple[Path, Path], *args: str) -> tuple[int, str, str]:
    """Run it: (exit status, stdout, stderr)."""
    proc = start(installed, *args)
    out, err = proc.communicate(timeout=300)
    return proc.returncode, out, err


def test_the_installed_package_is_the_copy_in_the_venv(installed):
    bin_dir, cwd = installed
    where = subprocess.run([bin_dir / "python", "-c", "import rcnlab; print(rcnlab.__file__)"], cwd=cwd,
                           capture_output=True, text=True, check=True).stdout
    assert Path(where).is_relative_to(bin_dir.parent)
    assert rcnlab(installed, "--version") == (0, f"rcnlab {metadata.version('rcnlab')}\n", "")


def test_the_installed_walkthroughs_are_listed_and_each_plays(installed):
    names = sorted(p.stem for p in (ROOT / "topologies" / "walkthroughs").glob("*.toml"))
    status, listing, err = rcnlab(installed, "walkthrough")
    assert status == 0, err
    assert names and all(name in listing for name in names)
    playing = {name: start(installed, "walkthrough", name, "--auto", stdout=subprocess.DEVNULL) for name in names}
    for name, proc in playing.items():
        _, err = proc.communicate(timeout=300)
        assert (proc.returncode, err) == (0, ""), name


def test_the_installed_package_runs_a_shipped_scenario_by_name(installed):
    status, out, err = rcnlab(installed, "run", "fig1", "--scenario", "fig1-basic", "--json")
    assert status == 0, err
    summary = json.loads(out)
    assert summary["scenario"]["passed"] and not summary["scenario"]["failed"]
