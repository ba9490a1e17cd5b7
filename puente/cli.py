"""The ``puente`` command: the embedded warehouse, the simulators, the demo and the local Airflow."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from datetime import date

DOCS_PORT = 8081


def iso_day(value: str) -> date:
    """An argparse type: a calendar day written YYYY-MM-DD, said plainly when it is not one."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in YYYY-MM-DD form (e.g. 2026-11-16)") from None


def _positive(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exceptions that report a mistake of the person at the shell (a mistyped system, a missing or
    wrong setting, an unknown row): main prints their message, not a traceback."""
    from puente.activation.engine import ActivationModelMissing, UnknownRowKeys
    from puente.activation.spec import DeclarationError
    from puente.config import InvalidSetting, MissingSetting
    from puente.field_crypto import FieldKeyError
    from puente.sources.registry import UnknownSource

    return (MissingSetting, InvalidSetting, UnknownSource, FieldKeyError, DeclarationError, ActivationModelMissing,
            UnknownRowKeys)


def main(argv: list[str] | None = None) -> int:
    """The command line; a user's mistake (``_user_errors``) ends in one line on stderr and exit status 2,
    anything unexpected in its traceback."""
    import psycopg

    try:
        return _main(argv)
    except _user_errors() as exc:
        print(f"puente: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return 2
    except psycopg.OperationalError as exc:
        # the warehouse cannot be reached or refuses the login: a setting to fix, not a bug to trace
        # (libpq's message names the host, port and user, never the password)
        if "connection failed" not in str(exc) and "connection to server" not in str(exc):
            raise
        print(f"puente: error: cannot connect to the warehouse: {' '.join(str(exc).split())} "
              "(PUENTE_WAREHOUSE_URL, or the embedded one: `.venv/bin/puente warehouse start`)", file=sys.stderr)
        return 2


def _main(argv: list[str] | None) -> int:
    from puente.demo import PROFILES

    parser = argparse.ArgumentParser(
        prog="puente",
        description="Puente: the nightly bridge between an SME's ERP, CRM and online shop.",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress at INFO level")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    demo = sub.add_parser("demo", help="run a few simulated nights end to end and show what happened")
    demo.add_argument("--days", type=_positive, default=3, help="consecutive business days to run (default 3)")
    demo.add_argument("--customers", type=_positive, default=None, help="size of the simulated business (default 1000)")
    demo.add_argument("--start", type=iso_day, default=None,
                      help="first business day, YYYY-MM-DD (default 2026-11-16)")
    demo.add_argument("--seed", type=int, default=None, help="seed of the simulated business (default 7)")
    demo.add_argument("--profile", choices=tuple(PROFILES), default="default",
                      help="which systems the simulated business runs: " + "; ".join(
                          f"{name} = {', '.join(systems)}" for name, systems in PROFILES.items()))
    demo.add_argument("--reset", action="store_true",
                      help="empty the warehouse even when Airflow's scheduler or a person ran Puente's DAGs on it "
                           "(the demo refuses otherwise: `make airflow` shares its database)")

    rep = sub.add_parser("report", help="write a night's HTML run report again from the warehouse and print its path",
                         description="Write the run report of one business day (one self-contained HTML page under "
                                     "the night's folder, beside the gates' data docs) from what the warehouse holds "
                                     "now. The nightly DAG writes it after every night; this rewrites it, e.g. after "
                                     "a fix or for a night whose report task did not run.")
    rep.add_argument("--date", type=iso_day, default=None,
                     help="business day, YYYY-MM-DD (default: the latest night the warehouse has records of)")

    wh = sub.add_parser("warehouse", help="the embedded PostgreSQL")
    wh.add_argument("action", choices=["start", "stop", "url"],
                    help="start (or reuse) it, stop it, or print the URL of the running one (never its password)")

    airflow_help = ("start the Airflow UI (127.0.0.1:8080, or PUENTE_AIRFLOW_PORT) over the same warehouse; "
                    "Ctrl-C or SIGTERM stops it")
    sub.add_parser("airflow", help=airflow_help, description=airflow_help[0].upper() + airflow_help[1:] + ".")
    check = sub.add_parser(
        "check", help="test each configured system: reachable, credentials accepted, scopes or access rights, "
                      "API version",
        description="Ask each system the business runs (PUENTE_SYSTEMS or puente.yml) whether Puente can work "
                    "with it, with the settings of its PUENTE_<SYSTEM>_* variables, and say in plain words what is "
                    "missing. Exit status 1 when something stops the night (a system unreachable, credentials "
                    "refused, a read scope or right missing); a missing write permission only warns, because "
                    "it stops the activations into that system, not the night. The nightly DAG's "
                    "check_connections task runs the same checks with the Airflow connections.")
    check.add_argument("systems", nargs="*", metavar="SYSTEM", help="only these systems (e.g. hubspot)")
    sub.add_parser("dbt-parse", help="write dbt_project/target/manifest.json when the project changed",
                   description="Parse the dbt project (dbt parse) and write dbt_project/target/manifest.json, which "
                               "the Airflow DAGs read, when the project changed since the last parse. There is no "
                               "`puente dbt`: run .venv/bin/dbt with --project-dir dbt_project --profiles-dir "
                               "dbt_project (README, 'Other commands').")
    docs_help = "build the dbt docs (dbt_project/target/static_index.html)"
    docs = sub.add_parser("dbt-docs", help=docs_help,
                          description="Build the dbt docs of the project, every model, mart and column with its "
                                      "description and lineage, against the warehouse (dbt docs generate --static "
                                      "reads its catalog) into one self-contained page, "
                                      "dbt_project/target/static_index.html; --serve then serves it.")
    docs.add_argument("--serve", action="store_true",
                      help=f"then serve them on 127.0.0.1 (port {DOCS_PORT}, or PUENTE_DOCS_PORT) until Ctrl-C")
    from puente.activation import cli as activations_cli

    activations_cli.add_parser(sub)
    from puente import erasure, field_crypto

    erasure.add_parser(sub)
    field_crypto.add_parser(sub)

    args = parser.parse_args(argv)
    if not sys.stdout.isatty():  # piped into make's output, a file or CI: no ANSI colour codes from dbt
        os.environ.setdefault("DBT_USE_COLORS", "False")
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")

    if args.command == "demo":
        from puente.demo import DEMO_CUSTOMERS, DEMO_SEED, DEMO_START, run_demo

        return run_demo(days=args.days, customers=args.customers or DEMO_CUSTOMERS,
                        start=args.start or DEMO_START, seed=DEMO_SEED if args.seed is None else args.seed,
                        profile=args.profile, reset=args.reset)
    if args.command == "warehouse":
        return _warehouse(args.action)
    if args.command == "report":
        return _report(args.date)
    if args.command == "airflow":
        from puente.local_airflow import run_airflow_ui

        return run_airflow_ui()
    if args.command == "check":
        return _check(args.systems)
    if args.command == "dbt-parse":
        from puente.dbt import ensure_manifest

        ensure_manifest()
        return 0
    if args.command == "activations":
        return activations_cli.main(args)
    if args.command == "erase":
        return erasure.main(args)
    if args.command == "field-key":
        return field_crypto.main(args)
    if args.command == "dbt-docs":
        return _dbt_docs(serve=args.serve)
    return 2


def _dbt_docs(serve: bool) -> int:
    """``dbt docs generate --static`` against the warehouse (the catalog reads its tables), then
    optionally ``dbt docs serve`` on the loopback address only."""
    from puente.config import dbt_project_dir
    from puente.dbt import run_dbt
    from puente.runtime import free_port, port_in_use
    from puente.warehouse import warehouse_url

    url = warehouse_url()
    target = dbt_project_dir() / "target"
    print("Building the dbt docs (dbt docs generate; reads the warehouse's catalog)…", flush=True)
    run_dbt(["docs", "generate", "--static", "--write-json"], url)  # whatever DBT_WRITE_JSON says
    print(f"dbt docs written to {target}.\n"
          f"  Open {target / 'static_index.html'} in a browser (one self-contained file),\n"
          "  or run `make docs-serve` to browse them over http://127.0.0.1.", flush=True)
    if not serve:
        return 0
    requested = os.environ.get("PUENTE_DOCS_PORT")
    port = int(requested) if requested else (free_port() if port_in_use(DOCS_PORT) else DOCS_PORT)
    print(f"Serving the dbt docs on http://127.0.0.1:{port} (Ctrl-C stops)", flush=True)
    try:
        run_dbt(["docs", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-browser"], url)
    except KeyboardInterrupt:
        pass
    return 0


def _report(day: date | None) -> int:
    from puente.run_report import latest_night, night_on_record, nights_on_record, write_report
    from puente.warehouse import warehouse_url

    url = warehouse_url()
    if day is not None and not night_on_record(url, day):
        # Without a trace of the night the page would show today's marts under that date's name.
        nights = nights_on_record(url)
        known = ", ".join(str(night) for night in nights) + (" (latest first)" if len(nights) > 1 else "")
        print(f"puente report: no night has run for {day} in this warehouse "
              "(no load batch, gate run or nightly DAG run for it); "
              + (f"nights on record: {known}." if nights else "no night is on record yet."),
              file=sys.stderr)
        return 1
    day = day or latest_night(url)
    if day is None:
        print("The warehouse has no night yet (ops.load_batches, ops.gate_results and ops.dag_runs have none): "
              "run a night first, then write its report.", file=sys.stderr)
        return 1
    print(write_report(url, day))
    return 0


def _check(systems: list[str]) -> int:
    from puente.sources import checks, registry

    names = [registry.source(n).name for n in systems] or [s.name for s in registry.configured()]
    findings = checks.check_all(checks.read_configs(names, lambda n: registry.source(n).config.from_env()))
    print(checks.report(findings))
    print(checks.verdict(findings))
    return 1 if checks.blocking(findings) else 0


def _warehouse(action: str) -> int:
    from puente import warehouse

    if action == "stop":
        print("stopped" if warehouse.stop_embedded() else "no embedded warehouse was running")
        return 0
    if action == "url" and not os.environ.get("PUENTE_WAREHOUSE_URL"):
        port = warehouse.embedded_port()
        if port is None:
            print("puente: the embedded warehouse is not running (`.venv/bin/puente warehouse start` starts it)",
                  file=sys.stderr)
            return 1
        url = warehouse.embedded_url(port)
    else:
        url = warehouse.warehouse_url()
    if action == "start":
        warehouse.ensure_schema(url)
    print(warehouse.describe(url))
    if not os.environ.get("PUENTE_WAREHOUSE_URL"):
        from puente.config import puente_home

        print(f"passwords: {puente_home() / warehouse.PASSFILE} (roles {', '.join(warehouse.EMBEDDED_ROLES)}; "
              f"libpq reads it as PGPASSFILE)", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
