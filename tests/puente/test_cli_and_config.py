from __future__ import annotations

import pytest

from puente import cli
from puente.config import HubSpotConfig, MissingSetting, OdooConfig


def test_help_lists_every_command(capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main(["--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    for command in ("demo", "warehouse", "airflow", "dbt-parse", "dbt-docs"):
        assert command in out


def test_warehouse_url_prints_without_password(capsys, warehouse_url):
    assert cli.main(["warehouse", "url"]) == 0
    assert capsys.readouterr().out.strip().startswith("postgresql://")


def test_missing_setting_names_variable_and_connection():
    with pytest.raises(MissingSetting, match="PUENTE_HUBSPOT_TOKEN.*puente_hubspot"):
        HubSpotConfig.from_env({"PUENTE_HUBSPOT_URL": "https://api.hubapi.com"})


def test_secrets_stay_out_of_repr():
    config = OdooConfig(url="https://x.odoo.com", db="x", login="me", api_key="very-secret-key")
    assert "very-secret-key" not in repr(config)
