"""What Docker and Compose would do with the project's files, computed without a Docker engine:
the build context after ``.dockerignore``, the Dockerfile's ``ENV`` and ``RUN`` steps, and
Compose's variable interpolation. Each follows the documented rules of the real tool:

- ``.dockerignore``: one pattern a line (Go ``filepath.Match`` syntax plus ``**`` for any number
  of folders), ``#`` comments, ``!`` re-includes; a pattern that matches a folder matches
  everything in it; the last matching pattern decides.
- Compose interpolation: ``${VAR}``, ``${VAR:-default}``, ``${VAR-default}``, ``${VAR:?error}``,
  ``${VAR?error}``, ``$VAR``, and ``$$`` for a literal ``$``.
"""

from __future__ import annotations

import os
import re
import shlex
from pathlib import Path

# --- .dockerignore -----------------------------------------------------------------------------


def _pattern_regex(pattern: str) -> re.Pattern:
    out, i = [], 0
    while i < len(pattern):
        c = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):  # "**/" : zero or more folders
                out.append("(?:.*/)?")
                i += 1
            else:
                out.append(".*")
            continue
        if c == "*":
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "[":
            end = pattern.index("]", i)
            body = pattern[i + 1:end]
            out.append("[" + ("^" + body[1:] if body.startswith("^") else body) + "]")
            i = end
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile("".join(out) + r"\Z")


def dockerignore_rules(text: str) -> list[tuple[bool, re.Pattern]]:
    """(re-include?, regex) per pattern, in file order."""
    rules = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        include = line.startswith("!")
        pattern = os.path.normpath(line[1:].strip() if include else line).lstrip("/")
        rules.append((include, _pattern_regex(pattern)))
    return rules


def is_ignored(path: str, rules: list[tuple[bool, re.Pattern]]) -> bool:
    """Whether ``path`` (relative, with ``/``) stays out of the build context."""
    parts = path.split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    ignored = False
    for include, regex in rules:
        if any(regex.match(prefix) for prefix in prefixes):
            ignored = not include
    return ignored


def build_context(root: Path, rules: list[tuple[bool, re.Pattern]]) -> list[str]:
    """Every file of ``root`` the build would send, as relative paths. Folders that are ignored
    and that no re-include pattern reaches into are not walked (Docker skips them as well)."""
    reincluded = [regex.pattern for include, regex in rules if include]
    kept = []
    for folder, dirs, files in os.walk(root):
        rel = Path(folder).relative_to(root).as_posix()
        rel = "" if rel == "." else rel + "/"
        dirs[:] = [d for d in dirs if not is_ignored(rel + d, rules)
                   or any(p.startswith(re.escape(rel + d)) for p in reincluded)]
        kept.extend(rel + f for f in files if not is_ignored(rel + f, rules))
    return sorted(kept)


# --- Dockerfile ----------------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    logical, current = [], ""
    for line in text.splitlines():
        if line.strip().startswith("#") and not current:
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            word, _, rest = current.strip().partition(" ")
            logical.append((word.upper(), rest.strip()))
        current = ""
    return logical


def dockerfile_env(text: str) -> dict[str, str]:
    env = {}
    for instruction, args in dockerfile_instructions(text):
        if instruction == "ENV":
            for item in shlex.split(args):
                key, _, value = item.partition("=")
                env[key] = value
    return env


# --- Compose -------------------------------------------------------------------------------------


class MissingVariable(ValueError):
    pass


_VAR = re.compile(r"\$(?:\$|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, env: dict[str, str]):
    """Compose's interpolation of one value (recursively through lists and mappings)."""
    if isinstance(value, dict):
        return {key: interpolate(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [interpolate(item, env) for item in value]
    if not isinstance(value, str):
        return value

    def replace(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        if match.group("plain"):
            return env.get(match.group("plain"), "")
        expression = match.group("braced")
        name, op, arg = re.match(r"([A-Za-z_][A-Za-z0-9_]*)(:?[-?+]?)(.*)", expression, re.S).groups()
        current = env.get(name)
        unset_or_empty = not current
        if op in (":?", "?") and (current is None or (op == ":?" and unset_or_empty)):
            raise MissingVariable(f"required variable {name} is missing a value: {arg}")
        if op in (":-", "-") and (current is None or (op == ":-" and unset_or_empty)):
            return arg
        return current or ""

    return _VAR.sub(replace, value)


def required_variables(text: str) -> set[str]:
    """Variables a compose file cannot do without: ``${VAR:?…}``, ``${VAR?…}`` and bare ``${VAR}``."""
    names = set()
    for match in re.finditer(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)(:?[-?+]?)", text):
        if match.group(2) in ("", ":?", "?"):
            names.add(match.group(1))
    return names


def read_env_file(text: str) -> dict[str, str]:
    """``KEY=value`` lines of a .env file (comments and blank lines skipped)."""
    env = {}
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, _, value = line.partition("=")
            env[key.strip()] = value.strip()
    return env
