"""The night's own speed (``make bench-night``): the real ``puente_nightly`` DAG, per stage.

For each business size (1,000 and 10,000 customers by default; ``python -m bench.night 1000`` for
one) it empties a warehouse database, starts the simulators over a ``Business`` of that many
customers, and runs two nights with ``dag.test()`` as the demo and the tests do: a full first night
and an incremental second night (the business lives one more day in between). Each night runs in a
child process of its own, so that what the night costs is that process's alone: the simulators
answer from this process.

Per task, around Airflow's own ``_run_task`` (so the fixed cost of starting a task counts), the child
records wall seconds, the CPU seconds of the night's process (user + system, dbt included: cosmos
invokes it in-process), the CPU seconds of the PostgreSQL server (the postmaster and all its
backends: where the SQL of dbt, the loads and the gates does its work) and the peak RSS of the
night's process while the task ran (sampled every 50 ms). Tasks are summed into stages; results
go to bench/RESULTS.md with the load average, since the machine is shared.

With ``PUENTE_BENCH_PROFILE=DIR`` in the environment, each task also runs under cProfile and its
statistics land in ``DIR/<n>-<task_id>.prof`` (``python -m pstats``): how the growth of a dbt task's
cost through the night was traced to dbt-adapters' behaviour flags (``puente.dbt.lighten_adapter_start``).
"""

from __future__ import annotations

import argparse
import cProfile
import itertools
import json
import os
import resource
import subprocess
import sys
import threading
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.results import markdown_table, write_section

START = date(2026, 11, 16)
SEED = 7
SIZES = (1000, 10_000)
DATABASE = "bench_night"
NIGHT_TIMEOUT_SECONDS = 3600
URL_ENV = "PUENTE_BENCH_NIGHT_URL"  # the warehouse's URL for the night's process (not in its argv: a password)
# Stages in the night's order: the top-level task or task group each task belongs to.
STAGES = {
    "validate_run": "check", "check_connections": "check", "prepare_warehouse": "check",
    "extract": "extract", "raw_gate": "raw gate", "staging": "staging", "transform": "transform", "bi_views": "transform",
    "marts_gate": "marts gate",
    "ml": "ML", "activation_models": "activation models", "sync_gate": "sync gate",
    "activate": "activations", "release_lease": "activations", "morning_check": "report", "run_report": "report",
}
STAGE_ORDER = list(dict.fromkeys(STAGES.values()))


def stage_of(task_id: str) -> str:
    return STAGES.get(task_id.split(".")[0], task_id.split(".")[0])


# ---------------------------------------------------------------- inside the night's process

def _cpu_seconds() -> float:
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _rss_mib(field: str = "VmRSS") -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


class ServerCpu:
    """CPU seconds used so far by a PostgreSQL server: its postmaster, the backends it has reaped and
    the ones alive now (found through the postmaster's children). None where /proc cannot say."""

    def __init__(self, url: str):
        import psycopg

        with psycopg.connect(url) as conn:  # the backend's parent, read while the backend lives
            backend = conn.execute("select pg_backend_pid()").fetchone()[0]
            self.postmaster = int(self._stat(backend)[1])
        self.ticks = os.sysconf("SC_CLK_TCK")

    def _stat(self, pid: int) -> list[str]:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()

    def seconds(self) -> float | None:
        try:
            fields = self._stat(self.postmaster)
            # utime, stime, cutime, cstime: fields 14-17 of stat, 12-15 after the ")"
            total = sum(int(v) for v in fields[11:15])
            for child in Path(f"/proc/{self.postmaster}/task/{self.postmaster}/children").read_text().split():
                try:
                    total += sum(int(v) for v in self._stat(int(child))[11:13])
                except (OSError, ValueError):
                    pass  # a backend that just ended: counted in cutime once reaped
            return total / self.ticks
        except (OSError, ValueError):
            return None


class RssPeak(threading.Thread):
    """The highest RSS of this process since the last ``reset``, sampled every 50 ms."""

    def __init__(self):
        super().__init__(daemon=True, name="rss-peak")
        self.peak = 0.0

    def reset(self) -> None:
        self.peak = _rss_mib()

    def run(self) -> None:
        while True:
            self.peak = max(self.peak, _rss_mib())
            time.sleep(0.05)


def run_night(logical: datetime, out: Path, url: str) -> int:
    """One night with ``dag.test()`` in this process, each task measured; a JSON line per task to ``out``."""
    import airflow.sdk.definitions.dag as dag_module
    from airflow.dag_processing.dagbag import BundleDagBag

    from puente.dbt import ensure_manifest

    began, cpu_began = time.monotonic(), _cpu_seconds()
    server = ServerCpu(url)
    server_began = server.seconds()
    ensure_manifest()
    dags = Path(__file__).resolve().parents[1] / "dags"
    bag = BundleDagBag(dag_folder=str(dags), bundle_path=dags)
    if bag.import_errors:
        raise SystemExit(f"the DAG does not import: {bag.import_errors}")
    dag = bag.get_dag("puente_nightly")
    rss = RssPeak()
    rss.start()
    run_task = dag_module._run_task

    with out.open("w") as sink:
        def emit(record: dict) -> None:
            sink.write(json.dumps(record) + "\n")
            sink.flush()

        emit({"event": "parsed", "wall": time.monotonic() - began, "cpu": _cpu_seconds() - cpu_began,
              "upstream": {t.task_id: sorted(t.upstream_task_ids) for t in dag.tasks}})

        profile_dir = os.environ.get("PUENTE_BENCH_PROFILE")
        numbers = itertools.count()

        def measured(*, ti, task, **kwargs):
            rss.reset()
            wall, cpu, pg = time.monotonic(), _cpu_seconds(), server.seconds()
            profiler = cProfile.Profile() if profile_dir else None
            if profiler:
                profiler.enable()
            try:
                return run_task(ti=ti, task=task, **kwargs)
            finally:
                if profiler:
                    profiler.disable()
                    profiler.dump_stats(f"{profile_dir}/{next(numbers)}-{ti.task_id}.prof")
                pg_end = server.seconds()
                emit({"event": "task", "task_id": ti.task_id, "wall": time.monotonic() - wall,
                      "cpu": _cpu_seconds() - cpu, "pg_cpu": None if pg is None or pg_end is None else pg_end - pg,
                      "rss_peak": max(rss.peak, _rss_mib())})

        dag_module._run_task = measured
        try:
            run = dag.test(logical_date=logical)
        finally:
            dag_module._run_task = run_task
        server_end = server.seconds()
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        emit({"event": "end", "state": str(run.state), "states": states, "wall": time.monotonic() - began,
              "cpu": _cpu_seconds() - cpu_began, "rss_hwm": _rss_mib("VmHWM"),
              "pg_cpu": None if server_began is None or server_end is None else server_end - server_began})
    return 0 if str(run.state) == "success" else 1


# ---------------------------------------------------------------- the benchmark

def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f} / {five:.1f} / {fifteen:.1f}"


class Progress:
    """Follows the child's JSON lines: a line per finished stage, a reminder when a stage runs long."""

    def __init__(self, path: Path, quiet_seconds: float = 30):
        self.path, self.quiet = path, quiet_seconds
        self.records: list[dict] = []
        self._offset = 0
        self._stage: str | None = None
        self._stage_tasks: list[dict] = []
        self._said = time.monotonic()

    def _say(self, line: str) -> None:
        print(line, flush=True)
        self._said = time.monotonic()

    def _close_stage(self) -> None:
        if self._stage and self._stage_tasks:
            t = self._stage_tasks
            self._say(f"    {self._stage:<18} {len(t):>3} task{'s' if len(t) > 1 else ' '} "
                      f"{sum(r['wall'] for r in t):7.1f} s wall {sum(r['cpu'] for r in t):7.1f} s CPU")
        self._stage_tasks = []

    def poll(self, final: bool = False) -> None:
        if self.path.exists():
            with self.path.open() as fh:
                fh.seek(self._offset)
                chunk = fh.read()
            complete = chunk[: chunk.rfind("\n") + 1]
            self._offset += len(complete)
            for line in complete.splitlines():
                record = json.loads(line)
                self.records.append(record)
                if record["event"] == "parsed":
                    self._say(f"    {'DAG parsed':<18}     {record['wall']:11.1f} s wall {record['cpu']:7.1f} s CPU")
                elif record["event"] == "task":
                    stage = stage_of(record["task_id"])
                    if stage != self._stage:
                        self._close_stage()
                        self._stage = stage
                    self._stage_tasks.append(record)
        if final:
            self._close_stage()
        elif time.monotonic() - self._said > self.quiet:
            self._say(f"    … {self._stage or 'starting'}: {len(self._stage_tasks)} task(s) done, "
                      f"load average {_load()}")


def recorded(logs: Path, customers: int, kind: str) -> dict:
    """A night as its JSON lines recorded it (for ``--from-logs``); its wall is the child's own."""
    records = [json.loads(line) for line in (logs / f"{customers}-{kind}.jsonl").read_text().splitlines()]
    end = next((r for r in records if r["event"] == "end"), None)
    return {"customers": customers, "kind": kind, "ok": bool(end and end["state"] == "success"),
            "seconds": end["wall"] if end else float("nan"), "load_before": "?", "load_after": "?",
            "tasks": [r for r in records if r["event"] == "task"],
            "parsed": next((r for r in records if r["event"] == "parsed"), None), "end": end}


def night(env: dict[str, str], url: str, logical: datetime, logs: Path, label: str) -> dict:
    out = logs / f"{label}.jsonl"
    log_path = logs / f"{label}.log"
    out.unlink(missing_ok=True)
    progress = Progress(out)
    load_before = _load()
    began = time.monotonic()
    with log_path.open("w") as log:
        proc = subprocess.Popen([sys.executable, "-m", "bench.night", "--run-night", logical.isoformat(),
                                 "--out", str(out)],
                                env={**env, URL_ENV: url}, stdout=log, stderr=subprocess.STDOUT, cwd=Path(__file__).resolve().parents[1])
        try:
            while proc.poll() is None:
                if time.monotonic() - began > NIGHT_TIMEOUT_SECONDS:
                    proc.kill()
                    break
                progress.poll()
                time.sleep(1)
        except BaseException:
            proc.kill()
            raise
    proc.wait()
    progress.poll(final=True)
    seconds = time.monotonic() - began
    end = next((r for r in progress.records if r["event"] == "end"), None)
    ok = proc.returncode == 0 and end is not None and end["state"] == "success"
    if not ok:
        failed = [t for t, s in (end or {}).get("states", {}).items() if s in ("failed", "upstream_failed")]
        print(f"    FAILED (exit {proc.returncode}; failed tasks {failed}); see {log_path}", flush=True)
    return {"label": label, "ok": ok, "seconds": seconds, "load_before": load_before, "load_after": _load(),
            "tasks": [r for r in progress.records if r["event"] == "task"],
            "parsed": next((r for r in progress.records if r["event"] == "parsed"), None), "end": end}


def critical_path(result: dict, upstream: dict[str, list[str]]) -> float:
    """The night's wall time had independent tasks run side by side (as the scheduler runs the three
    extractions, the ML jobs, the activations of different systems): the longest chain of measured
    task times through the DAG. ``dag.test()`` runs one task at a time, so its wall is the sum."""
    wall = {t["task_id"]: 0.0 for t in result["tasks"]}
    for t in result["tasks"]:
        wall[t["task_id"]] += t["wall"]
    finish: dict[str, float] = {}

    def done(task_id: str) -> float:
        if task_id not in finish:
            finish[task_id] = max((done(u) for u in upstream.get(task_id, [])), default=0.0) + wall.get(task_id, 0.0)
        return finish[task_id]

    return max((done(task_id) for task_id in upstream), default=0.0)


def side_by_side(result: dict, upstream: dict[str, list[str]]) -> float:
    """A lower bound of the night's wall under a scheduler that runs independent tasks together: the
    longer of the critical path and the CPU seconds (the night's and PostgreSQL's) over the cores."""
    cpu = result["end"]["cpu"] + (result["end"].get("pg_cpu") or 0.0)
    return max(critical_path(result, upstream), cpu / (os.cpu_count() or 1))


def stages(result: dict) -> dict[str, dict]:
    out: dict[str, dict] = defaultdict(lambda: {"tasks": 0, "wall": 0.0, "cpu": 0.0, "pg_cpu": 0.0, "rss": 0.0})
    for r in result["tasks"]:
        s = out[stage_of(r["task_id"])]
        s["tasks"] += 1
        s["wall"] += r["wall"]
        s["cpu"] += r["cpu"]
        s["pg_cpu"] += r["pg_cpu"] or 0.0
        s["rss"] = max(s["rss"], r["rss_peak"])
    return {name: out[name] for name in [*STAGE_ORDER, *sorted(set(out) - set(STAGE_ORDER))] if name in out}


def run_size(customers: int, env_base: dict[str, str], base_url: str, logs: Path) -> list[dict]:
    from puente import runtime, warehouse
    from puente.simulators.app import Credentials, create_app
    from puente.simulators.business import Business
    from puente.simulators.server import SimulatorServer

    warehouse.drop_database(base_url, DATABASE)
    warehouse.create_database(base_url, DATABASE)
    url = warehouse.with_database(base_url, DATABASE)
    warehouse.ensure_schema(url)
    print(f"{customers:,} customers: generating the business …", flush=True)
    business = Business(seed=SEED, customers=customers, start=START)
    credentials = Credentials()
    results = []
    with SimulatorServer(create_app(business, credentials)) as sim:
        env = {**env_base, **runtime.simulated_sources_env(credentials, sim.base_url),
               "AIRFLOW_CONN_PUENTE_WAREHOUSE": runtime.warehouse_connection(url)}
        env = runtime.child_env(env)
        for number, kind in enumerate(("full", "incremental")):
            if number:
                business.advance_day()
            day = START + timedelta(days=number)
            print(f"  {kind} night, business day {day} (load average {_load()})", flush=True)
            result = night(env, url, datetime(day.year, day.month, day.day, tzinfo=UTC), logs,
                           f"{customers}-{kind}")
            result.update(customers=customers, kind=kind)
            print(f"  {kind} night {'succeeded' if result['ok'] else 'FAILED'} in {result['seconds']:.0f} s "
                  f"(night process {result['end']['cpu'] if result['end'] else float('nan'):.0f} s CPU, "
                  f"peak RSS {result['end']['rss_hwm'] if result['end'] else float('nan'):.0f} MiB)", flush=True)
            results.append(result)
            if not result["ok"]:
                break
    return results


def report(results: list[dict]) -> str:
    summary = []
    upstream = next((r["parsed"]["upstream"] for r in results if (r["parsed"] or {}).get("upstream")), {})
    for r in results:
        end, parsed = r["end"] or {}, r["parsed"] or {}
        dbt = [t for t in r["tasks"] if stage_of(t["task_id"]) in ("staging", "transform", "activation models")]
        summary.append([
            f"{r['customers']:,}", r["kind"], "yes" if r["ok"] else "**failed**", f"{r['seconds']:.0f}",
            f"{side_by_side(r, upstream):.0f}" if upstream and r["end"] else "",
            f"{end.get('cpu', float('nan')):.0f}", f"{end.get('pg_cpu') or float('nan'):.0f}",
            f"{end.get('rss_hwm', float('nan')):.0f}", f"{parsed.get('wall', float('nan')):.1f}",
            len(dbt), f"{sum(t['cpu'] for t in dbt) / max(len(dbt), 1):.2f}",
            f"{r['load_before']} → {r['load_after']}",
        ])
    body = [markdown_table(
        ["customers", "night", "ok", "wall s", "wall s, lower bound side by side", "night CPU s", "PostgreSQL CPU s", "peak RSS MiB", "DAG parse s",
         "dbt tasks", "CPU s per dbt task", "load average (1/5/15 min) before → after"], summary)]
    for r in results:
        rows = [[name, s["tasks"], f"{s['wall']:.1f}", f"{s['cpu']:.1f}", f"{s['pg_cpu']:.1f}", f"{s['rss']:.0f}"]
                for name, s in stages(r).items()]
        body.append(f"**{r['customers']:,} customers, {r['kind']} night**\n\n" + markdown_table(
            ["stage", "tasks", "wall s", "night CPU s", "PostgreSQL CPU s", "peak RSS MiB"], rows))
    return "\n\n".join(body)


NOTES = """\
Each night is the real `puente_nightly` run with `dag.test()` (tasks one after another in one
process, as in the demo and the tests) over the simulators, in a child process of its own; a
night's wall time includes parsing the DAG. *Night CPU* is that process's CPU (user + system;
dbt runs inside it through cosmos' dbtRunner); *PostgreSQL CPU* is the warehouse server's (every
backend), where the SQL itself runs. A stage's wall and CPU are the sums over its tasks, each
measured around Airflow's `_run_task`, so a task's start-up counts. *Lower bound side by side*:
what a scheduler running independent tasks together (the three extractions, the ML jobs, the
activations of different systems) could at best reach from the same task times: the longer of
the DAG's critical path and the night's CPU (with PostgreSQL's) over the cores. Peak RSS is the night process's
highest resident memory while the stage ran (PostgreSQL's own memory is not included). The machine
has 2 cores shared with other engineers: wall times move with the load average shown; CPU seconds
move less."""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.night", description=__doc__.split("\n\n")[0])
    parser.add_argument("sizes", nargs="*", type=int, default=list(SIZES), help="customers of each business")
    parser.add_argument("--no-write", action="store_true", help="do not write bench/RESULTS.md")
    parser.add_argument("--from-logs", type=Path, metavar="DIR",
                        help="print the report of the nights recorded in DIR (<customers>-<night>.jsonl) without running")
    parser.add_argument("--run-night", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run_night:
        return run_night(datetime.fromisoformat(args.run_night), Path(args.out), os.environ[URL_ENV])
    if args.from_logs:
        print(report([recorded(args.from_logs, customers, kind) for customers in args.sizes
                      for kind in ("full", "incremental") if (args.from_logs / f"{customers}-{kind}.jsonl").exists()]))
        return 0

    from puente import runtime, warehouse
    from puente.config import puente_home
    from puente.dbt import ensure_manifest

    os.environ.setdefault("PUENTE_AIRFLOW_DB", "airflow_bench_night")
    base = warehouse.ensure_embedded()
    env = runtime.airflow_env(base)
    runtime.migrate_airflow(env)
    ensure_manifest()
    logs = puente_home() / "logs" / "bench-night"
    logs.mkdir(parents=True, exist_ok=True)
    print(f"bench-night: sizes {args.sizes}, load average {_load()}; logs in {logs}", flush=True)
    results: list[dict] = []
    for customers in args.sizes:
        results += run_size(customers, env, base, logs)
    text = report(results)
    print(text)
    if not args.no_write:
        command = "make bench-night" if args.sizes == list(SIZES) else f"python -m bench.night {' '.join(map(str, args.sizes))}"
        write_section("night", "The night's own speed: `puente_nightly` per stage", command, f"{NOTES}\n\n{text}")
    return 0 if results and all(r["ok"] for r in results) else 1


if __name__ == "__main__":
    raise SystemExit(main())
