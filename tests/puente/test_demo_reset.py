"""The demo empties the embedded warehouse before its first night, but never nights it did not run."""

from __future__ import annotations

from urllib.parse import urlsplit

import psycopg
import pytest

from puente import cli, demo, warehouse


def test_the_demo_empties_only_a_database_it_made_or_one_without_nights(fresh_db, capsys):
    base, database = warehouse.with_database(fresh_db, "postgres"), urlsplit(fresh_db).path.lstrip("/")
    warehouse.ensure_schema(fresh_db)
    assert demo.refusal(base, database) is None  # no night has loaded anything
    with psycopg.connect(fresh_db) as conn:  # a night of a business on real systems
        conn.execute("insert into ops.load_batches (batch_id, source, object) values ('b1', 'odoo', 'res.partner')")
    refused = demo.refusal(base, database)
    assert refused and "1 load the demo did not make" in refused and "puente demo --reset" in refused
    warehouse.mark_database(base, database, demo.DEMO_MARK)  # the demo made it: the next demo may empty it
    assert demo.refusal(base, database) is None
    assert demo.refusal(base, "no_such_database") is None
    with pytest.raises(SystemExit):
        cli.main(["demo", "--days", "0"])
    assert "not a whole number of at least 1" in capsys.readouterr().err
