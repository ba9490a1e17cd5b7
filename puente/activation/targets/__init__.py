"""Writers of the target systems, by registry name (the engine asks ``writer_for``)."""

from __future__ import annotations

from typing import Any

from puente.activation.writers import Writer


def writer_for(system: str, config: Any, **options: Any) -> Writer:
    if system == "hubspot":
        from puente.activation.targets.hubspot import HubSpotWriter
        return HubSpotWriter(config, **options)
    raise KeyError(f"Puente cannot write to {system!r} yet")
