"""Running declared activations by name: what the DAG's tasks and ``puente activations`` call."""

from __future__ import annotations

from datetime import date
from typing import Any

from puente.activation.engine import ActivationResult, run_activation
from puente.activation.spec import Activation, activation_named
from puente.field_crypto import FieldKeys
from puente.sources import registry


def run_named(url: str, name: str, target_config: Any, logical_date: date | None = None, *,
              dry_run: bool = False, activation: Activation | None = None, field_keys: FieldKeys | None = None,
              **writer_options: Any) -> ActivationResult:
    """Run the activation ``name`` against the target system configured by ``target_config``.

    A dry run needs no connection to the target at all: it reads the warehouse only. ``field_keys``
    open the phones and tax ids the warehouse holds sealed (``puente.field_crypto``) as they are sent.
    """
    activation = activation or activation_named(name)
    writer = None if dry_run else registry.build_writer(activation.target, target_config, **writer_options)
    try:
        return run_activation(url, activation, writer, logical_date=logical_date, dry_run=dry_run,
                              field_keys=field_keys)
    finally:
        if writer is not None:
            writer.close()
