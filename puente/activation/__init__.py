"""Puente acts: one engine for every outbound flow (the activations).

An activation is a dbt model in ``dbt_project/models/activations/`` — one row per target record,
saying what that record should show — plus a short declaration in the model's YAML
(``config.meta.activation``: target system and object, mode, the fields Puente owns there).
``puente.activation.spec`` reads the declarations from dbt's manifest, ``puente.activation.engine``
sends what changed, and each target system's writer (``puente/sources/<system>/writer.py``, behind the protocol of
``puente.activation.writers``) speaks its API.
"""
