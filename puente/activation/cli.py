"""puente activations: see, try and run the activations from a shell.

    puente activations list                      what is declared, and each one's last run
    puente activations dry-run [NAME ...]        what each would send now (nothing is sent)
    puente activations run NAME ... [--dry-run]  send (targets from PUENTE_<SYSTEM>_* variables)
    puente activations work-list [NAME]          what needs a person, and why
    puente activations drop NAME ROW_KEY ... --reason TEXT --by NAME
                                                 give up on rows: never retried again

--build first builds the activation models (dbt build --select tag:activation) from what the
warehouse holds now, as of the latest business day a night ran for (--date to choose another), as
the night builds them: the windows they count in days (the web orders still to post, the reminders
due) run back from that day.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from puente.cli import iso_day


def add_parser(sub: Any) -> None:
    parser = sub.add_parser("activations", help="list, dry-run, run the activations; the work list; drop rows",
                            description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    actions.add_parser("list", help="the declared activations and their last run",
                       description="List the declared activations (the activation models' config), each with its "
                                   "target, mode and purposes, and its last run: when, rows sent, refused, invalid.")
    dry = actions.add_parser("dry-run", help="what each activation would send now; nothing is sent")
    dry.add_argument("names", nargs="*", help="activations (default: all)")
    dry.add_argument("--build", action="store_true", help="build the activation models first")
    dry.add_argument("--date", type=iso_day, default=None,
                     help="with --build: the business day they are built as of (default: the latest night's)")
    dry.add_argument("--samples", type=int, default=3, help="payloads shown per activation (default 3)")
    run = actions.add_parser("run", help="send the activations to their systems")
    run.add_argument("names", nargs="+", help="activations to run")
    run.add_argument("--build", action="store_true", help="build the activation models first")
    run.add_argument("--date", type=iso_day, default=None,
                     help="with --build: the business day they are built as of (default: the latest night's)")
    run.add_argument("--dry-run", action="store_true", help="report only, send nothing")
    work = actions.add_parser("work-list", help="what could not be sent and why")
    work.add_argument("names", nargs="*", help="activations (default: all)")
    drop = actions.add_parser("drop", help="give up on rows (they leave the work list and are never retried)")
    drop.add_argument("name", help="the activation")
    drop.add_argument("row_keys", nargs="+", help="the rows (row_key, as the work list shows it)")
    drop.add_argument("--reason", required=True, help="why, for the audit")
    drop.add_argument("--by", required=True, help="who decides")


def main(args: argparse.Namespace) -> int:
    from puente.activation.spec import load_activations
    from puente.warehouse import warehouse_url

    if getattr(args, "date", None) and not args.build:
        print("--date says as of which day --build builds the activation models: give --build too "
              "(without it they are read as the last build left them)", file=sys.stderr)
        return 2
    url = warehouse_url()
    declared = {a.name: a for a in load_activations()}
    names = list(getattr(args, "names", None) or [])
    unknown = [n for n in names if n not in declared]
    if unknown:
        print(f"unknown activation(s) {unknown}; declared: {', '.join(declared)}", file=sys.stderr)
        return 2
    chosen = [declared[n] for n in names] if names else list(declared.values())
    if getattr(args, "build", False):
        from puente.dbt import ACTIVATION_BUILD_ARGS, run_dbt
        from puente.run_report import latest_night

        day = args.date or latest_night(url)
        as_of = f" as of {day}" if day else ""
        print(f"Building the activation models (dbt build --select tag:activation){as_of}…", flush=True)
        run_dbt(list(ACTIVATION_BUILD_ARGS), url, env={"PUENTE_AS_OF_DATE": day.isoformat()} if day else None)
    if args.action == "list":
        return _list(url, chosen)
    if args.action == "work-list":
        return _work_list(url, [a.name for a in chosen])
    if args.action == "drop":
        from puente.activation.engine import UnknownRowKeys, drop_rows

        if args.name not in declared:
            print(f"unknown activation {args.name!r}; declared: {', '.join(declared)}", file=sys.stderr)
            return 2
        try:
            left = drop_rows(url, args.name, args.row_keys, args.reason, args.by)
        except UnknownRowKeys as exc:
            print(exc, file=sys.stderr)
            return 2
        print(f"{len(args.row_keys)} row(s) of {args.name} dropped; {left} left the work list")
        return 0
    return _run(url, chosen, dry_run=args.action == "dry-run" or args.dry_run,
                samples=getattr(args, "samples", 3))


def _run(url: str, activations: list, *, dry_run: bool, samples: int) -> int:
    from puente.activation import engine
    from puente.activation.run import run_named
    from puente.field_crypto import FieldKeys
    from puente.sources import registry

    failed = 0
    for activation in activations:
        print(f"\n== {activation.name}: {activation.summary} ({activation.target} {activation.object}, "
              f"{activation.mode})")
        try:
            if dry_run:
                result = engine.run_activation(url, activation, None, dry_run=True)
            else:
                config = registry.source(activation.target).config.from_env()
                print(f"   sending to {config.url} ({config.origin})")
                result = run_named(url, activation.name, config, activation=activation, field_keys=FieldKeys.from_env())
        except Exception as exc:  # one activation's failure must not hide the others' reports
            failed += 1
            print(f"   FAILED: {exc}")
            continue
        print(f"   {result.rows} rows, {result.pending} changed since the target last accepted them: "
              + (f"{result.pending - result.invalid - result.withheld} would be sent"
                 if dry_run else f"{result.sent} sent ({result.created} created, {result.adopted} adopted), "
                                 f"{result.failed} refused")
              + f", {result.invalid} invalid, {result.withheld} withheld for lack of authorisation"
              + (f", {result.cleared} cleared (authorisation withdrawn)" if result.cleared else ""))
        for reason, count in result.reasons.items():
            print(f"   - {count} × {reason}")
        for sample in result.samples[:samples]:
            print("   sample: " + json.dumps(sample, ensure_ascii=False, default=str)[:400])
    return 1 if failed else 0


def _list(url: str, activations: list) -> int:
    import psycopg
    from psycopg.rows import dict_row

    with psycopg.connect(url, row_factory=dict_row) as conn:
        # the latest real run and the latest dry run of each activation (ops.activation_runs.dry_run)
        latest = conn.execute(
            "select distinct on (activation, dry_run) activation, dry_run, finished_at, rows_pending, rows_sent, "
            "rows_failed, rows_invalid, rows_withheld from ops.activation_runs "
            "order by activation, dry_run, finished_at desc").fetchall()
    real = {row["activation"]: row for row in latest if not row["dry_run"]}
    dry = {row["activation"]: row for row in latest if row["dry_run"]}
    for a in activations:
        print(f"{a.name:<28} {a.target} {a.object} ({a.mode}"
              + (f", for {' and '.join(a.purposes)}" if a.purposes else "")
              + f"); {_last_runs(real.get(a.name), dry.get(a.name))}\n{'':<28} {a.summary}")
    return 0


def _last_runs(real: dict | None, dry: dict | None) -> str:
    """The latest real run's figures, then the latest dry run when it is more recent: what it found
    would be sent (the rows changed, less the invalid and the withheld ones; a dry run sends nothing)."""
    said = (f"last run {real['finished_at']:%Y-%m-%d %H:%M}: {real['rows_sent']} sent, {real['rows_failed']} refused, "
            f"{real['rows_invalid']} invalid" if real else "no real run yet" if dry else "never run")
    if dry and (real is None or dry["finished_at"] > real["finished_at"]):
        would = dry["rows_pending"] - dry["rows_invalid"] - dry["rows_withheld"]
        said += (f"; latest dry run {dry['finished_at']:%Y-%m-%d %H:%M}: would send {would} "
                 f"({dry['rows_invalid']} invalid, {dry['rows_withheld']} withheld), nothing sent")
    return said


def _work_list(url: str, names: list[str]) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "select activation, row_key, kind, reason, attempts, first_seen_at from ops.activation_issues "
            "where activation = any(%s) order by activation, first_seen_at, row_key", (names,)).fetchall()
    if not rows:
        print("The work list is empty.")
    for activation, row_key, kind, reason, attempts, first_seen in rows:
        tries = f", refused {attempts} time(s)" if kind == "failed" else ""
        print(f"{activation} {row_key} [{kind}{tries}, since {first_seen:%Y-%m-%d}]: {reason}")
    return 0
