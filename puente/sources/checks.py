"""`puente check`: is each configured system reachable, are the credentials accepted, may Puente
do what it needs there, and does it speak an API version Puente supports?

Every source folder has a ``check.py`` whose ``check(config)`` asks its system a few cheap
questions (a token's scopes, a user's access rights, the server's version) and returns
``Finding``s in words an operator can act on: which scope to add to which app, which right the
integration user lacks. A finding is *blocking* when the night cannot read the system (nothing
reachable, credentials refused, a read scope missing): the nightly DAG's ``check_connections``
task fails with it before anything is extracted. A missing write permission only stops the
activations into that system, so it is reported without stopping the night; the activation
itself fails with the system's own error until the permission is granted.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from puente.sources.http import RetryPolicy, SourceError

# A check asks once: a system that does not answer is reported, not retried for minutes.
CHECK_HTTP_OPTIONS: dict[str, Any] = {"retry": RetryPolicy(attempts=2, base_delay=0.5, max_delay=2.0),
                                      "timeout": 15.0}


@dataclass(frozen=True)
class Finding:
    system: str  # as people write it: "HubSpot"
    check: str  # "connection", "credentials", "scopes", "rights", "version"
    ok: bool
    message: str
    blocking: bool = True  # when not ok: the night cannot read the system

    @property
    def mark(self) -> str:
        return "ok" if self.ok else ("FAIL" if self.blocking else "warn")


def passed(system: str, check: str, message: str) -> Finding:
    return Finding(system, check, True, message)


def failed(system: str, check: str, message: str, *, blocking: bool = True) -> Finding:
    return Finding(system, check, False, message, blocking)


def first_contact(system: str, where: str, call: Callable[[], Any]) -> tuple[Any, list[Finding]]:
    """Run the first request to a system and turn what goes wrong into a finding about the
    connection or the credentials. Returns the call's result (None when it failed) and findings."""
    try:
        result = call()
    except SourceError as exc:
        if exc.status in (401, 403):
            return None, [failed(system, "credentials", f"{where} refused the credentials ({exc.outcome}). "
                                 f"{exc.advice}")]
        if exc.status is None:
            return None, [failed(system, "connection", f"cannot reach {where}: {exc.outcome}. Check the URL, "
                                 "the network between Airflow and the system, and its TLS certificate")]
        return None, [failed(system, "connection", f"{where} answered {exc.outcome}. {exc.advice}")]
    return result, [passed(system, "connection", f"{where} answers")]


def missing_scopes(system: str, granted: Iterable[str], read: Iterable[str], write: Iterable[str],
                   where_to_grant: str, why: Mapping[str, str] | None = None) -> list[Finding]:
    """Findings for the scopes a token lacks: read scopes block the night, write scopes only the
    activations into the system. ``why`` adds what a missing scope costs, in the user's words."""
    granted, why = set(granted), why or {}
    findings = []
    for scopes, blocking, use in ((read, True, "to read"), (write, False, "for the activations to write")):
        lacking = [s for s in scopes if s not in granted]
        if lacking:
            reasons = "".join(f" {why[s]}" for s in lacking if s in why)
            findings.append(failed(system, "scopes", f"the token lacks {', '.join(lacking)}, needed {use}; "
                                   f"add {'it' if len(lacking) == 1 else 'them'} in {where_to_grant}.{reasons}",
                                   blocking=blocking))
        else:
            findings.append(passed(system, "scopes", f"every scope needed {use} is granted"))
    return findings


def read_configs(names: Iterable[str], read: Callable[[str], Any]) -> dict[str, Any]:
    """Each system's configuration by ``read(name)``; a setting that is missing or wrong becomes
    the exception itself, which ``check_all`` reports as that system's first finding."""
    configs: dict[str, Any] = {}
    for name in names:
        try:
            configs[name] = read(name)
        except Exception as exc:  # noqa: BLE001 — reported as a finding, with its own message
            configs[name] = exc
    return configs


def check_all(configs: Mapping[str, Any], warehouse_url: str | None = None) -> list[Finding]:
    """Check every system in ``configs`` (registry name -> its configuration, or the exception
    raised reading it, e.g. a missing setting). A system that keeps rotating tokens in the
    warehouse (``Source.keeps_tokens``) is checked with ``warehouse_url`` (default: the one
    ``puente.warehouse.warehouse_url()`` finds). What a system's check raises (a URL the HTTP
    client refuses, a check that breaks) is that system's FAIL finding: the others are still
    checked."""
    from puente.sources import registry

    findings: list[Finding] = []
    for name, config in configs.items():
        spec = registry.source(name)
        if isinstance(config, Exception):
            findings.append(failed(spec.title, "configuration", str(config)))
            continue
        findings.append(passed(spec.title, "configuration", f"settings from {config.origin}, at {config.url}"))
        if spec.check is None:
            findings.append(failed(spec.title, "connection", "Puente has no connection check for it yet",
                                   blocking=False))
            continue
        try:
            findings.extend(spec.check(config, warehouse_url) if spec.keeps_tokens else spec.check(config))
        except SourceError as exc:  # e.g. the HTTP client refusing the URL before any request
            findings.append(failed(spec.title, "connection", f"{config.url}: {exc.outcome}. {exc.advice}"))
        except Exception as exc:  # noqa: BLE001 — one system's check must not stop the others'
            findings.append(failed(spec.title, "connection", f"the check could not finish "
                                   f"({type(exc).__name__}: {exc})"))
    return findings


def report(findings: list[Finding]) -> str:
    width = max((len(f.system) for f in findings), default=0)
    return "\n".join(f"  {f.mark:<4} {f.system:<{width}}  {f.check:<13} {f.message}" for f in findings)


def blocking(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if not f.ok and f.blocking]


def verdict(findings: list[Finding]) -> str:
    """One line under the report: can the night run, and what only the activations will miss."""
    stops, warns = blocking(findings), [f for f in findings if not f.ok and not f.blocking]
    systems = sorted({f.system for f in stops})
    head = (f"{len(stops)} problem(s) stop the night ({', '.join(systems)})" if stops
            else "every system can be read")
    return head + (f"; {len(warns)} warning(s) (activations or versions)" if warns else "")
