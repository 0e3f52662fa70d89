#!/usr/bin/env python3
"""Set everything up and run one job, on a machine with nothing but Python 3.11+.

    python3 dev.py demo            the engine's main job: a 10,000-message mixed-channel campaign
    python3 dev.py test [ARGS]     the whole test suite (pytest ARGS)
    python3 dev.py bench           the benchmarks, results in bench/results.md (--sfmc, --instructions,
                                   --scale: one of them alone)
    python3 dev.py run CMD...      any command inside the project's environment (e.g. channel-engine serve)

Setup: a private copy of uv in .tools/ (from PyPI), then `uv sync` of the whole workspace into .venv/
from uv.lock. Repeated runs reuse both. `test` and `bench` also need a Redis server binary, `test` a
Chromium for the tests of the pages the engine serves, and `bench --instructions` valgrind: whichever is
missing, Debian's package is installed with apt-get (through sudo when not root).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
BIN = "Scripts" if os.name == "nt" else "bin"


def say(text: str) -> None:
    print(f"[dev] {text}", file=sys.stderr, flush=True)


def uv() -> str:
    found = shutil.which("uv")
    if found:
        return found
    exe = TOOLS / BIN / "uv"
    if not exe.exists():
        say("installing uv into .tools/ (once)")
        venv.EnvBuilder(with_pip=True, clear=True).create(TOOLS)
        subprocess.run([str(TOOLS / BIN / "python"), "-m", "pip", "install", "-q", "uv>=0.5"], check=True)
    return str(exe)


def sync() -> str:
    """Install the workspace (core, every plugin, test tools) into .venv; returns the uv executable."""
    exe = uv()
    say("syncing .venv with uv.lock")
    subprocess.run([exe, "sync", "--all-packages", "--locked", "--quiet"], cwd=ROOT, check=True)
    return exe


# Debian packages the test and bench jobs need: (the program, its package, what needs it).
REDIS = ("redis-server", "redis-server", "the Redis store's tests run a real server")
CHROMIUM = ("chromium", "chromium", "the tests of the pages the engine serves drive a headless browser")
VALGRIND = ("valgrind", "valgrind", "bench/instructions.py counts instructions under callgrind")


def ensure_debian_packages(*needed: tuple[str, str, str]) -> None:
    """Install with apt-get the Debian packages whose program is missing, in one update and one install."""
    missing = [(package, why) for program, package, why in needed if not _installed(program)]
    if not missing:
        return
    packages = [package for package, _ in missing]
    apt = shutil.which("apt-get")
    if apt is None:
        say(f"{', '.join(packages)} missing and there is no apt-get: install them yourself (the tests that "
            "need them fail under CI and are skipped elsewhere)")  # fmt: skip
        return
    sudo = [] if os.geteuid() == 0 else [shutil.which("sudo") or "sudo", "-n"]
    for package, why in missing:
        say(f"installing {package} with apt-get ({why})")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in ([*sudo, apt, "update", "-qq"], [*sudo, apt, "install", "-y", "-qq", *packages]):
        if subprocess.call(command, env=env, stdout=subprocess.DEVNULL) != 0:
            say(f"{' '.join(command)} failed: the tests that need it fail under CI and are skipped elsewhere")
            return


def _installed(program: str) -> bool:
    return bool(shutil.which(program)) or Path("/usr/bin", program).exists()


def run(exe: str, *command: str, env: dict[str, str] | None = None) -> int:
    return subprocess.call([exe, "run", "--no-sync", *command], cwd=ROOT, env={**os.environ, **(env or {})})


def isolated(exe: str, plugin: Path, env: dict[str, str]) -> int:
    command = [exe, "run", "--isolated", "--no-project", "--quiet", "--with-editable", "./core[testing]"]
    extra = "[testing]" if "\ntesting = " in (plugin / "pyproject.toml").read_text() else ""
    command += ["--with-editable", f"./plugins/{plugin.name}{extra}"]
    command += ["pytest", "-q", f"plugins/{plugin.name}"]
    return subprocess.call(command, cwd=ROOT, env={**os.environ, **env})


def main(argv: list[str]) -> int:
    job, args = (argv[0], argv[1:]) if argv else ("demo", [])
    if job in ("-h", "--help", "help"):
        print(__doc__)
        return 0
    exe = sync()
    spec_dir = ROOT.parent / "shared" / "reference" / "infobip-openapi" / "specs"
    salesforce_dir = ROOT.parent / "shared" / "reference" / "salesforce-interaction-api"
    env = {
        "CHANNEL_ENGINE_SPEC_DIR": os.environ.get("CHANNEL_ENGINE_SPEC_DIR", str(spec_dir)),
        "CHANNEL_ENGINE_SALESFORCE_SPEC_DIR": os.environ.get(
            "CHANNEL_ENGINE_SALESFORCE_SPEC_DIR", str(salesforce_dir)
        ),
    }
    if job == "demo":
        return run(exe, "channel-engine", "demo", *args)
    if job == "test":
        ensure_debian_packages(REDIS, CHROMIUM)
    if job == "bench":
        ensure_debian_packages(REDIS, *([VALGRIND] if "--instructions" in args else []))
    if job == "test":
        if not args:
            # Each plugin's own tests, with only the core and that plugin installed, then everything.
            for plugin in sorted((ROOT / "plugins").iterdir()):
                if (plugin / "tests").is_dir():
                    say(f"{plugin.name}: its tests with only channel-engine and {plugin.name} installed")
                    code = isolated(exe, plugin, env)
                    if code:
                        return code
        return run(exe, "pytest", *args, env=env)
    if job == "bench":
        return run(exe, "python", "bench/run.py", *args)
    if job == "run":
        return run(exe, *args, env=env)
    say(f"unknown job {job!r}; try: demo, test, bench, run")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
