"""What each system's simulator declares about itself, for the files all simulators share.

Each simulated system's module, ``puente/simulators/<system>.py`` (the name of its source in
``puente.sources.registry``), ends with one ``SIMULATOR = Simulated(...)``: how the app mounts it
(``create_app``), how its records break when the chaos faults ask for a malformed one
(``puente.simulators.limits``), and whether the business runs it only when asked
(``python -m puente.simulators serve --<system>``), and the credentials it accepts
(``Credentials``). ``simulated()`` lists them in registry order,
so the shared files loop over the registry instead of naming each system.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass(frozen=True)
class Credential:
    """One credential a simulator accepts: its field of ``puente.simulators.app.Credentials``
    (``shopify_token``), read from ``PUENTE_SIM_<FIELD>`` (``env`` False: set in code only; a field
    ending in ``_scopes`` is comma-separated). A secret has ``make``, which draws one when none is
    given (it never shows in a repr); any other has its ``default``."""

    name: str
    make: Callable[[], str] | None = None
    default: Any = None
    env: bool = True


@dataclass(frozen=True, kw_only=True)
class Simulated:
    name: str  # the source's name: mounted under /<name>
    # mount(business, credentials, limits, faults) -> the ASGI app to mount, or None when the
    # business does not expose it at all (HubSpot for a business on Salesforce)
    mount: Callable[[Any, Any, Any, Any], Any]
    # A date the system's API could never hold, written as its dates are (a malformed record's).
    broken_date: str
    # The text a bad encoding cuts: the first of these fields a record has.
    text_fields: tuple[str, ...]
    # Where the API starts below the base URL, shown by `serve` (`/shopify/admin/api/2026-10`), and
    # what it is, as people call it ("Shop (Shopify Admin 2026-10)").
    endpoint: Callable[[Any], str]
    title: str
    # Set for a system the simulated business runs only when asked (``serve --<name>``): the
    # option's help, and the ``Business`` arguments that turn it on.
    opt_in: str | None = None
    business_options: Mapping[str, Any] = field(default_factory=dict)
    # What a client must present (fields of ``Credentials``, in this order).
    credentials: tuple[Credential, ...] = ()


@cache
def simulated() -> tuple[Simulated, ...]:
    """The simulator of each source of the registry, in its order."""
    from puente.sources.registry import SOURCES

    found = []
    for source in SOURCES:
        module = importlib.import_module(f"puente.simulators.{source.name}")
        if not isinstance(getattr(module, "SIMULATOR", None), Simulated) or module.SIMULATOR.name != source.name:
            raise TypeError(f"puente/simulators/{source.name}.py must end with SIMULATOR = Simulated(name="
                            f"{source.name!r}, ...) (puente.simulators.systems)")
        found.append(module.SIMULATOR)
    return tuple(found)


def simulator(name: str) -> Simulated:
    for sim in simulated():
        if sim.name == name:
            return sim
    raise KeyError(f"no simulator of {name!r}; simulated: {[s.name for s in simulated()]}")


def opt_in_systems() -> tuple[str, ...]:
    """The systems the simulated business runs only when asked (``serve --<name>``)."""
    return tuple(s.name for s in simulated() if s.opt_in)
