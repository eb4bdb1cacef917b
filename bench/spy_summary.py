"""Summarize py-spy raw (collapsed) stacks: where the samples are, by function and by file.

    python bench/spy_summary.py FILE [FILE ...] [--top 25] [--focus SUBSTRING]

Prints the share of samples per function as the innermost frame ("self") and anywhere on
the stack ("inclusive", counted once per stack). --focus keeps only stacks through a frame
containing SUBSTRING (e.g. "orders/api.py"). Written for `make bench` with BENCH_PYSPY_DIR.
"""

import argparse
import re
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>.*?)(?::(?P<line>\d+))?\)$")


ROOT = Path(__file__).resolve().parents[1]  # frames in the project print relative to it


def short(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match["file"]
    for marker in ("site-packages/", f"{ROOT}/", "lib/python3.11/"):
        if marker in path:
            path = path.split(marker, 1)[1]
    return f"{match['func']} ({path})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="+")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--focus", default="")
    args = parser.parse_args()
    own, inclusive, total = Counter(), Counter(), 0
    for name in args.files:
        with open(name) as stacks:
            for line in stacks:
                stack, _, count = line.rstrip("\n").rpartition(" ")
                if not count.isdigit() or (args.focus and args.focus not in stack):
                    continue
                frames = [short(f) for f in stack.split(";") if f and not f.startswith("process ")]
                frames = [f for f in frames if not f.startswith("thread ")]
                if not frames:
                    continue
                samples = int(count)
                total += samples
                own[frames[-1]] += samples
                for frame in set(frames):
                    inclusive[frame] += samples
    print(f"{total} samples")
    for title, counter in (("self", own), ("inclusive", inclusive)):
        print(f"\n{title}:")
        for frame, samples in counter.most_common(args.top):
            print(f"  {100 * samples / total:5.1f} %  {frame}")


if __name__ == "__main__":
    main()
