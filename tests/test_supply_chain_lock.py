"""The lock files (issue 18, item 16): every pin of the requirements files, with hashes, in sync."""

import re
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
REGENERATE = "requirements changed without the lock files: run `make lock` and commit both"


def pins(path: Path) -> dict[str, str]:
    """Return {name: version} of a requirements file's own pins (not of the files it includes)."""
    found = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        (specifier,) = requirement.specifier  # exact pins only: one "=="
        assert specifier.operator == "==", f"{path.name}: {line} is not pinned exactly"
        found[canonicalize_name(requirement.name)] = specifier.version
    return found


def locked(path: Path) -> dict[str, tuple[str, int]]:
    """Return {name: (version, number of hashes)} of a pip-compile lock file."""
    entries = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", path.read_text()):
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", block)
        if match:
            name = canonicalize_name(match[1])
            entries[name] = (match[2], len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block)))
    return entries


RUNTIME = pins(ROOT / "requirements.txt")
DEV = pins(ROOT / "requirements-dev.txt")
RUNTIME_LOCK = locked(ROOT / "requirements.lock")
DEV_LOCK = locked(ROOT / "requirements-dev.lock")


@pytest.mark.parametrize(
    "requirements, lock",
    [(RUNTIME, RUNTIME_LOCK), (RUNTIME, DEV_LOCK), (DEV, DEV_LOCK)],
    ids=["runtime in requirements.lock", "runtime in the dev lock", "dev in the dev lock"],
)
def test_every_pin_is_locked_at_its_version(requirements, lock):
    assert requirements
    differing = {
        name: (version, lock.get(name, ("missing", 0))[0])
        for name, version in requirements.items()
        if lock.get(name, (None, 0))[0] != version
    }
    assert not differing, f"{REGENERATE}: {differing}"


@pytest.mark.parametrize("lock", [RUNTIME_LOCK, DEV_LOCK], ids=["requirements.lock", "dev lock"])
def test_every_locked_package_has_hashes(lock):
    assert len(lock) > len(RUNTIME)  # transitive packages are locked too
    assert not [name for name, (_, hashes) in lock.items() if hashes == 0]


def test_the_image_runs_what_the_tests_ran():
    """A package both lock files hold has one version in both."""
    assert not {
        name: (version, DEV_LOCK[name][0])
        for name, (version, _) in RUNTIME_LOCK.items()
        if DEV_LOCK.get(name, (version,))[0] != version
    }
    assert set(RUNTIME_LOCK) <= set(DEV_LOCK)


def test_installs_go_through_the_lock_with_hashes():
    makefile = (ROOT / "Makefile").read_text()
    assert "LOCK := requirements-dev.lock" in makefile
    assert "pip install -q --require-hashes -r $(LOCK)" in makefile
    assert (
        "pip install --no-cache-dir --require-hashes -r requirements.lock"
        in (ROOT / "Dockerfile").read_text()
    )
