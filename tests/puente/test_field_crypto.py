"""Field encryption (puente.field_crypto): the key from a connection or the environment, sealed
values that open only with it, rotation, and a key that never shows."""

from __future__ import annotations

import base64
from types import SimpleNamespace

import pytest

from puente.field_crypto import FieldKeyError, FieldKeys, is_sealed, new_key, sealed_needles

OLD, NEW = new_key(), new_key()


def test_a_sealed_value_opens_only_with_its_key_and_holds_nothing_in_clear():
    keys = FieldKeys.parse(NEW)
    sealed = keys.seal("900.123.456-8")
    assert is_sealed(sealed) and "900" not in sealed and "123" not in sealed
    assert keys.open(sealed) == "900.123.456-8"
    assert keys.seal("900.123.456-8") == sealed  # deterministic: equal values seal equal
    assert keys.seal("9001234568") != sealed
    assert keys.open("not sealed") == "not sealed" and keys.seal(sealed) == sealed
    with pytest.raises(FieldKeyError, match="not among the configured keys"):
        FieldKeys.parse(OLD).open(sealed)
    kid, token = sealed.removeprefix("enc:v1:").split(":")
    forged = bytearray(base64.urlsafe_b64decode(token))
    forged[-1] ^= 1
    with pytest.raises(FieldKeyError, match="altered"):
        keys.open(f"enc:v1:{kid}:{base64.urlsafe_b64encode(bytes(forged)).decode()}")


def test_rotation_seals_with_the_newest_key_and_opens_with_any():
    before = FieldKeys.parse(OLD).seal("3001234567")
    rotated = FieldKeys.parse(f"{NEW}, {OLD}")
    assert rotated.open(before) == "3001234567"
    resealed = rotated.reseal(before)
    assert resealed != before and resealed == rotated.seal("3001234567")
    assert FieldKeys.parse(NEW).open(resealed) == "3001234567"  # the old key can go now
    # the erasure looks for a value sealed under every key still configured
    assert {before, resealed} == sealed_needles(rotated, ["3001234567"])
    assert sealed_needles(None, ["3001234567"]) == set()


def test_the_key_comes_from_the_connection_or_the_environment_and_never_shows():
    from_conn = FieldKeys.from_connection(SimpleNamespace(password=f"{NEW},{OLD}", login=None))
    assert from_conn is not None and len(from_conn.ids) == 2
    assert FieldKeys.from_connection(SimpleNamespace(password=None)) is None
    assert FieldKeys.from_env({}) is None  # no key: nothing sealed, the demo's default
    from_env = FieldKeys.from_env({"PUENTE_FIELD_KEY": NEW})
    assert from_env is not None and from_env.ids == from_conn.ids[:1]
    for shown in (repr(from_conn), str(from_conn), f"{from_conn!r}"):
        assert NEW not in shown and OLD not in shown and from_conn.ids[0] in shown
    with pytest.raises(FieldKeyError, match="key 2 is 16 bytes, not 64") as refused:
        FieldKeys.parse(f"{NEW},{base64.urlsafe_b64encode(b'0123456789abcdef').decode()}")
    assert NEW not in str(refused.value)
    with pytest.raises(FieldKeyError, match="not URL-safe base64"):
        FieldKeys.parse("a")


def test_a_record_has_its_declared_fields_sealed_wherever_they_sit():
    keys = FieldKeys.parse(NEW)
    payment = {"id": 7, "payer": {"email": "juan@example.com", "identification": {"type": "CC", "number": 1020304050}},
               "lines": [{"phone": "300 123 4567", "sku": "A"}, {"phone": None, "sku": "B"}]}
    sealed = keys.seal_record(payment, ["payer.identification", "lines[].phone"])
    assert sealed["id"] == 7 and sealed["payer"]["email"] == "juan@example.com"
    assert is_sealed(sealed["payer"]["identification"]["number"]) and is_sealed(sealed["lines"][0]["phone"])
    assert sealed["lines"][1] == {"phone": None, "sku": "B"}
    assert "1020304050" not in str(sealed) and "300 123 4567" not in str(sealed)
    opened = keys.open_record(sealed)
    assert opened["payer"]["identification"]["number"] == "1020304050"  # a number comes back as its text
    assert opened["lines"] == payment["lines"]
