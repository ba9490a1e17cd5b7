"""Writing a benchmark's results into bench/RESULTS.md.

Each benchmark owns one section of the file, delimited by HTML comments, and rewrites only that
section, with the date, the machine (cores, memory), the command that produced it and the git
commit of the code that ran (flagged when the code differed from that commit).
"""

from __future__ import annotations

import os
import platform
import re
import subprocess
from datetime import UTC, datetime
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
DATA_DIR = Path(os.environ.get("PUENTE_BENCH_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


def require_data(name: str) -> Path:
    """The path of a benchmark data file, or a clear error saying where to put it."""
    path = DATA_DIR / name
    if not path.exists():
        raise SystemExit(
            f"benchmark data {name} not found in {DATA_DIR}.\n"
            f"Put the file there (the project expects ../shared/data beside the checkout), "
            f"or set PUENTE_BENCH_DATA to the folder that holds it."
        )
    return path


def machine() -> str:
    memory = ""
    try:
        with open("/proc/meminfo") as fh:
            kib = int(fh.readline().split()[1])
        memory = f", {kib / 1024 / 1024:.0f} GiB memory"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} cores{memory}, {platform.machine()}, Python {platform.python_version()}"


def commit() -> str:
    """The short commit of the checkout, with a warning when the code that ran is not exactly that commit."""
    root = Path(__file__).resolve().parents[1]

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=False).stdout.strip()

    head = git("rev-parse", "--short", "HEAD") or "unknown"
    changed = git("status", "--porcelain", "--untracked-files=no", "--", "ml", "bench", "puente", "pyproject.toml")
    changed = "\n".join(line for line in changed.splitlines() if not line.endswith("bench/RESULTS.md"))
    return f"{head} (with uncommitted changes)" if changed else head


def markdown_table(headers: list[str], rows: list[list]) -> str:
    def cell(value) -> str:
        if isinstance(value, float):
            return f"{value:.3f}"
        return str(value)

    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def write_section(key: str, title: str, command: str, body: str) -> None:
    """Replace (or append) the section ``key`` of RESULTS.md."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    section = (
        f"<!-- bench:{key}:start -->\n## {title}\n\n"
        f"Measured {stamp} on {machine()} with `{command}` at commit {commit()}.\n\n{body.strip()}\n"
        f"<!-- bench:{key}:end -->"
    )
    text = RESULTS.read_text() if RESULTS.exists() else (
        "# Benchmark results\n\nWritten by `make bench` (or `make bench-<name>`); each section says "
        "when, where and with which command it was measured.\n"
    )
    pattern = re.compile(rf"<!-- bench:{key}:start -->.*?<!-- bench:{key}:end -->", re.S)
    text = pattern.sub(section, text) if pattern.search(text) else f"{text.rstrip()}\n\n{section}\n"
    RESULTS.write_text(text)
