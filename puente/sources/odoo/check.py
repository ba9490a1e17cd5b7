"""`puente check` for Odoo: the server answers, its version, the login, the user's access rights."""

from __future__ import annotations

from typing import Any

from puente.sources.checks import CHECK_HTTP_OPTIONS, Finding, failed, first_contact, passed
from puente.sources.http import SourceError
from puente.sources.odoo.config import OdooConfig
from puente.sources.odoo.connector import OdooConnector
from puente.sources.odoo.settings import MODELS, SYSTEM, TESTED_SERIES, WRITE_RIGHTS

# The group (Settings > Users > the integration user) that grants a model's rights, by application.
GROUP_HINTS = {"res.partner": "Extra Rights: Contact Creation", "sale.order": "Sales: User: All Documents",
               "sale.order.line": "Sales: User: All Documents",
               "sale.advance.payment.inv": "Sales: User: All Documents, with Invoicing: Billing",
               "account.move": "Invoicing: Billing", "product.product": "Inventory: User",
               "stock.quant": "Inventory: User"}


def check(config: OdooConfig) -> list[Finding]:
    connector = OdooConnector(config, **CHECK_HTTP_OPTIONS)
    try:
        version, findings = first_contact(SYSTEM, config.url, connector.server_version)
        if version is None:
            return findings
        findings.append(_version(version))
        try:
            connector.login()
        except SourceError as exc:
            return [*findings, failed(SYSTEM, "credentials", f"{exc.outcome}. {exc.advice}")]
        findings.append(passed(SYSTEM, "credentials", f"login {config.login!r} on database {config.db!r} accepted"))
        findings.append(_rights(connector, config, {m.name: ("read",) for m in MODELS}, blocking=True))
        findings.append(_rights(connector, config, WRITE_RIGHTS, blocking=False))
        return findings
    finally:
        connector.close()


def _version(answer: Any) -> Finding:
    info = answer.get("server_version_info") if isinstance(answer, dict) else None
    served = answer.get("server_version") if isinstance(answer, dict) else None
    major = info[0] if isinstance(info, list) and info and isinstance(info[0], int) else None
    tested = ", ".join(f"{s}.0" for s in TESTED_SERIES)
    if major in TESTED_SERIES:
        return passed(SYSTEM, "version", f"Odoo {served} (Puente is tested with {tested})")
    return failed(SYSTEM, "version", f"the server is Odoo {served or 'of an unknown version'}; Puente is tested "
                  f"with {tested}: run a dry run of the activations and compare one night's extract before "
                  "relying on it", blocking=False)


def _rights(connector: OdooConnector, config: OdooConfig, wanted: dict[str, tuple[str, ...]], *,
            blocking: bool) -> Finding:
    lacking = [(model, op) for model, ops in wanted.items() for op in ops
               if connector.execute_kw(model, "check_access_rights", [op], {"raise_exception": False}) is not True]
    use = "to read" if blocking else "for the activations (partners, sale orders, invoices)"
    if not lacking:
        return passed(SYSTEM, "rights", f"user {config.login!r} has every access right needed {use}")
    groups = sorted({GROUP_HINTS.get(model, "the application's User group") for model, _ in lacking})
    missing = ", ".join(f"{op} {model}" for model, op in lacking)
    return failed(SYSTEM, "rights", f"user {config.login!r} may not {missing}, needed {use}; in Odoo give it "
                  f"{'; '.join(groups)} (Settings > Users & Companies > Users)", blocking=blocking)
