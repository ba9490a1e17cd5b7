"""Field encryption: the most sensitive personal fields (phones, tax ids) sealed with a key Puente
is given, never one it keeps in the warehouse (Habeas Data, Ley 1581 de 2012, art. 4 g: security).

Which fields: each source object's own declaration, ``PersonalData.sensitive`` (its identifiers
other than e-mail addresses, and the field a tax id is typed into when it has none of its own,
``puente/sources/<system>/settings.py``); no second list here.

The key: the Airflow connection ``puente_field_key`` (its password), else ``PUENTE_FIELD_KEY``;
one or more keys, comma-separated, the newest first, each 64 random bytes in URL-safe base64
(``puente field-key new`` prints a new one). Without a key nothing is sealed and nothing
changes (the demo's default). The key is never logged: ``FieldKeys`` shows only key ids.

The cipher is AES-256-SIV (RFC 5297, the ``cryptography`` package): authenticated, so a changed
or forged value fails to open instead of opening to something else, and deterministic, so the
same value under the same key gives the same text. That is deliberate: identity resolution
compares sealed keys by equality, a quarantined record without an id is counted by its distinct
payload (``puente.reconcile``), and the erasure finds a person's sealed values by sealing their
identifiers (``sealed_needles``). It reveals which sealed
values are equal, which a keyed blind index for matching would reveal as well; it reveals nothing
else. A sealed value is text, ``enc:v1:<key id>:<ciphertext, URL-safe base64>``, so it fits
wherever the value was (JSON strings, text columns), and its key id says which key opens it.

Rotation: put the new key first and keep the old ones after it; values are sealed with the first
and opened with whichever key their id names. ``puente field-key reseal`` seals again under the
first key every sealed value ``ops.quarantine`` and raw keep (and the identity keys derived from
raw), and seals what raw still holds in clear (a warehouse that ran without a key); the next night
rebuilds the models (``rebuild_marts``). The snapshot history and the activation engine's books
(``ops.activation_state``, ``ops.activation_audit``, ``ops.activation_runs``) keep the forms sealed
under the older keys: drop a key only when nothing it sealed must be opened again. No activation
sends a row again for a rotation: what the engine compares (a model's ``compare``) never holds a
sealed value (tests/dbt/test_field_key_rotation.py).

Where it applies: raw (every record the loader lands, ``puente.load``) and ``ops.quarantine``, and so
everything built from them: staging, the marts and the snapshots hold the sealed forms. PostgreSQL
cannot open them (the embedded server has no pgcrypto); identity resolution, which compares phones
and tax ids, reads the keys the loader derived from the clear values before sealing them, sealed
too (``puente.sealed_keys``). The activation engine opens a value only as it hands it to a writer
(an ERP partner's tax id); the erasure, given the key, finds every sealed form.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from puente.sources.fields import field_tree, replace_at

CONN_ID = "puente_field_key"
ENV = "PUENTE_FIELD_KEY"
KEY_BYTES = 64  # AES-256-SIV: two 256-bit keys
PREFIX = "enc:v1:"
_SEALED = re.compile(r"^enc:v1:([0-9a-f]{8}):([A-Za-z0-9_-]+=*)$")
_SEALED_IN_TEXT = re.compile(r"enc:v1:[0-9a-f]{8}:[A-Za-z0-9_-]+=*")


class FieldKeyError(ValueError):
    """A key that cannot serve, or a sealed value no configured key opens."""


def new_key() -> str:
    """A fresh key, as the connection's password or ``PUENTE_FIELD_KEY`` takes it."""
    return base64.urlsafe_b64encode(secrets.token_bytes(KEY_BYTES)).decode()


def _key_id(key: bytes) -> str:
    return hashlib.sha256(b"puente field key id\x00" + key).hexdigest()[:8]


@dataclass(frozen=True, repr=False)
class FieldKeys:
    """The configured keys, the newest first (the one that seals)."""

    _keys: tuple[tuple[str, bytes], ...]

    @classmethod
    def parse(cls, text: str) -> FieldKeys:
        keys = []
        for n, part in enumerate((p.strip() for p in text.split(",") if p.strip()), 1):
            try:
                key = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
            except (binascii.Error, ValueError):
                raise FieldKeyError(f"field key {n} is not URL-safe base64") from None
            if len(key) != KEY_BYTES:
                raise FieldKeyError(f"field key {n} is {len(key)} bytes, not {KEY_BYTES}: make one with "
                                    "puente field-key new")
            keys.append((_key_id(key), key))
        if not keys:
            raise FieldKeyError("no field key given")
        return cls(tuple(keys))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FieldKeys | None:
        """``PUENTE_FIELD_KEY``, or None when it is unset (nothing is sealed)."""
        text = (os.environ if env is None else env).get(ENV, "").strip()
        return cls.parse(text) if text else None

    @classmethod
    def from_connection(cls, conn: Any) -> FieldKeys | None:
        """The Airflow connection ``puente_field_key``: the keys are its password."""
        text = (getattr(conn, "password", None) or "").strip()
        return cls.parse(text) if text else None

    def __repr__(self) -> str:
        return f"FieldKeys(ids={[kid for kid, _ in self._keys]})"

    @property
    def ids(self) -> list[str]:
        return [kid for kid, _ in self._keys]

    def seal(self, value: str) -> str:
        """``value`` sealed under the newest key (a sealed value is returned as it is)."""
        if is_sealed(value):
            return value
        return _seal(*self._keys[0], value)

    def open(self, value: str) -> str:
        """The clear text of a sealed value (any other value as it is)."""
        match = _SEALED.match(value) if isinstance(value, str) else None
        if match is None:
            return value
        kid, token = match.groups()
        key = dict(self._keys).get(kid)
        if key is None:
            raise FieldKeyError(f"a value is sealed under key {kid}, which is not among the configured keys {self.ids}")
        try:
            return AESSIV(key).decrypt(base64.urlsafe_b64decode(token), [kid.encode()]).decode("utf-8")
        except InvalidTag:
            raise FieldKeyError(f"a value sealed under key {kid} fails its authentication: it was altered") from None

    def reseal(self, value: str) -> str:
        """A sealed value under the newest key (rotation)."""
        return self.seal(self.open(value))

    def seal_record(self, record: Any, paths: Iterable[str]) -> Any:
        """``record`` with every text or number at the declared ``paths`` sealed (inside the objects
        and lists found there too: a payer's ``identification`` ``{type, number}``)."""
        tree = field_tree(paths)
        return replace_at(record, tree, lambda v: _leaves(v, self._seal_leaf)) if tree else record

    def open_record(self, value: Any) -> Any:
        """``value`` with every sealed text in it opened."""
        return _leaves(value, self.open)

    def _seal_leaf(self, value: Any) -> Any:
        text = _sealable(value)
        return value if text is None else self.seal(text)


def _sealable(value: Any) -> str | None:
    """The text a leaf is sealed as: a non-empty text, or a number's; None: kept as it is."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int | float) and not isinstance(value, bool):
        return str(value)
    return None


def clear_values(record: Any, paths: Iterable[str]) -> list[str]:
    """The clear texts ``seal_record`` would seal in ``record`` at ``paths`` (those already sealed
    left out)."""
    found: list[str] = []

    def collect(value: Any) -> Any:
        text = _sealable(value)
        if text is not None and not is_sealed(text):
            found.append(text)
        return value

    tree = field_tree(paths)
    if tree:
        replace_at(record, tree, lambda v: _leaves(v, collect))
    return found


def is_sealed(value: Any) -> bool:
    return isinstance(value, str) and _SEALED.match(value) is not None


def holds_sealed(value: Any) -> bool:
    """Whether a sealed text is anywhere in ``value`` (inside its objects and lists too)."""
    if isinstance(value, dict):
        return any(holds_sealed(v) for v in value.values())
    if isinstance(value, list | tuple):
        return any(holds_sealed(v) for v in value)
    return is_sealed(value)


def _leaves(value: Any, leaf) -> Any:
    if isinstance(value, dict):
        return {k: _leaves(v, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_leaves(v, leaf) for v in value]
    return leaf(value)


def sealed_needles(keys: FieldKeys | None, values: Iterable[str]) -> set[str]:
    """The sealed texts of ``values`` under every configured key: what the erasure searches for
    besides the values themselves."""
    if keys is None:
        return set()
    return {_seal(kid, key, value) for value in values for kid, key in keys._keys}


def _seal(kid: str, key: bytes, value: str) -> str:
    """AES-256-SIV of ``value``, the key id bound to it as associated data."""
    token = AESSIV(key).encrypt(value.encode("utf-8"), [kid.encode()])
    return f"{PREFIX}{kid}:{base64.urlsafe_b64encode(token).decode()}"


def reseal_quarantine(url: str, keys: FieldKeys) -> int:
    """Seal again under the newest key every sealed value ``ops.quarantine`` keeps (rotation);
    how many payloads changed. A value under a key no longer configured stops it, naming the key."""
    import json

    import psycopg

    with psycopg.connect(url) as conn:
        changed = []
        for quarantine_id, payload in conn.execute(
                "select quarantine_id, payload from ops.quarantine where payload like '%enc:v1:%'"):
            try:
                document = json.loads(payload)
            except ValueError:
                continue
            resealed = _leaves(document, lambda v: keys.reseal(v) if is_sealed(v) else v)
            if resealed != document:
                changed.append((json.dumps(resealed, default=repr, allow_nan=True), quarantine_id))
        with conn.cursor() as cur:
            cur.executemany("update ops.quarantine set payload = %s where quarantine_id = %s", changed)
    return len(changed)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "field-key", help="the key that seals phones and tax ids: make one, reseal under the newest, open values",
        description="Field encryption (see puente/field_crypto.py). `new` prints a fresh key for the Airflow "
                    f"connection {CONN_ID} (its password) or {ENV}. `reseal` seals again, under the first key of "
                    f"{ENV}, every sealed value raw and ops.quarantine keep, and seals what raw still holds in "
                    "clear. `open` prints each line of its input with the sealed "
                    "values in it opened (a work list's tax id: `echo 'enc:v1:…' | puente field-key open`).")
    parser.add_argument("action", choices=["new", "reseal", "open"])


def main(args: Any) -> int:
    if args.action == "new":
        print(new_key())
        return 0
    from puente.warehouse import warehouse_url

    keys = FieldKeys.from_env()
    if keys is None:
        print(f"Nothing done: set {ENV} to the key (for reseal: the new key, followed by the old ones, "
              "comma-separated)", file=sys.stderr)
        return 1
    if args.action == "open":

        for line in sys.stdin:
            print(_SEALED_IN_TEXT.sub(lambda m: keys.open(m.group(0)), line.rstrip("\n")))
        return 0
    from puente.sealed_keys import reseal_raw

    url = warehouse_url()
    count = reseal_quarantine(url, keys)
    raw = reseal_raw(url, keys)
    print(f"Resealed {count} quarantined record(s) and {raw} raw record(s) under key {keys.ids[0]}. Run the next "
          "night with rebuild_marts (dbt --full-refresh) so that the models hold the new forms. Keys "
          f"{keys.ids[1:] or 'none'} still open the snapshot history and the activations' books "
          "(ops.activation_state, ops.activation_audit, ops.activation_runs): keep them while those must be opened")
    return 0
