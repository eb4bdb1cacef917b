"""The repository stands alone: no tracked file points at a path outside its root."""

import re
import shutil
import subprocess
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[1]

# CI's runner script names system paths (PostgreSQL, Redis, apt) on purpose.
EXCLUDED = {".ci/run"}

# A relative path that starts with one or more parent-directory segments (dot, dot, slash).
RELATIVE_UP = re.compile(r"(?<![\w.])((?:\.\./+)+)(?=[A-Za-z_])")
# Path(__file__)[.resolve()].parent.parent... or .parents[N]: climbing from the file itself.
FILE_ANCESTOR = re.compile(
    r"Path\(__file__\)(?:\.resolve\(\)|\.absolute\(\))?"
    r"(?P<chain>(?:\.parent(?![\w\[]))*)(?:\.parents\[(?P<index>\d+)\])?"
)
# The folder this repository once read from beside it, however it is reached. Built in pieces
# so this module does not match its own needles.
LITERALS = (".." + "/shared", "shared" + "/stripe", "/" + "work/")


def outside_references(rel_path: str, text: str) -> list[str]:
    """Return "path:line: reason" for every reference in text that leaves the repository."""
    parts = PurePosixPath(rel_path).parts
    dir_depth = len(parts) - 1
    problems = []
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{rel_path}:{number}"
        for match in RELATIVE_UP.finditer(line):
            if match.group(1).count("..") > dir_depth:
                problems.append(f"{where}: relative path leaves the repository: {line.strip()}")
        for match in FILE_ANCESTOR.finditer(line):
            ups = match.group("chain").count(".parent")
            if match.group("index") is not None:
                ups += int(match.group("index")) + 1
            if ups > len(parts):
                problems.append(f"{where}: climbs above the repository root: {line.strip()}")
        for literal in LITERALS:
            if literal in line:
                problems.append(
                    f"{where}: names {literal!r} outside the repository: {line.strip()}"
                )
    return problems


def tracked_files() -> list[str]:
    if shutil.which("git") is None:
        pytest.skip("git is not installed, so the tracked files cannot be listed")
    if not (ROOT / ".git").exists():
        pytest.skip(f"{ROOT} is not a git checkout (no .git), so there are no tracked files")
    result = subprocess.run(
        ["git", "-C", str(ROOT), "ls-files", "-z"], capture_output=True, check=False
    )
    if result.returncode != 0:
        pytest.skip(f"git ls-files failed: {result.stderr.decode(errors='replace').strip()}")
    return [name for name in result.stdout.decode().split("\0") if name]


def test_no_tracked_file_references_a_path_outside_the_repository():
    problems = []
    scanned = 0
    for rel_path in tracked_files():
        path = ROOT / rel_path
        if rel_path in EXCLUDED or not path.is_file():
            continue
        try:
            text = path.read_bytes().decode("utf-8")
        except UnicodeDecodeError:
            continue  # binary (screenshots and the like)
        scanned += 1
        problems.extend(outside_references(rel_path, text))
    assert scanned, "no tracked text file was scanned"
    assert not problems, "References to paths outside the repository:\n" + "\n".join(problems)


UP = ".."
FILE = "Path(__file__)"  # kept apart so the repository scan does not flag these examples


@pytest.mark.parametrize(
    ("rel_path", "text"),
    [
        ("README.md", f"The contract is `{UP}/shared/API.md`."),
        ("docs/DESIGN.md", f"See {UP}/{UP}/elsewhere/notes.md"),
        ("docs/DESIGN.md", f"See {UP}/shared/API.md"),
        ("tests/fake_stripe.py", f'{FILE}.resolve().parents[2] / "shared"'),
        ("tests/x.py", f"{FILE}.parent.parent.parent"),
        ("docs/x.md", "shared" + "/stripe/NOTES.md"),
        ("docs/x.md", "/" + "work/shared/API.md"),
    ],
)
def test_detector_flags_references_outside_the_repository(rel_path, text):
    assert outside_references(rel_path, text)


@pytest.mark.parametrize(
    ("rel_path", "text"),
    [
        ("docs/DESIGN.md", f"The same page lives at `{UP}/README.md`."),
        ("payments/tests/t.py", f"{UP}/{UP}/docs/API.md"),
        ("payments/tests/t.py", "from ..services import refund"),
        ("gamarriando/settings/base.py", f"{FILE}.resolve().parent.parent.parent"),
        ("tests/test_settings.py", f"{FILE}.resolve().parents[1]"),
        ("README.md", "see `docs/stripe.md` and the shared API document"),
    ],
)
def test_detector_accepts_paths_inside_the_repository(rel_path, text):
    assert outside_references(rel_path, text) == []
