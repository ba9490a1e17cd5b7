"""`make bench-load`: the raw loader's rows per second against a plain COPY of the same rows.

Run `python -m bench.load [rows]` (default 1,000,000). Both sides run on the same PostgreSQL
(the embedded one, or PUENTE_WAREHOUSE_URL's server) in a fresh database, in the same run, on
the same Python records: realistic Shopify orders (customer, addresses, 1-6 line items; about
1.4 kB of JSON each). `python -m bench.load --field-key [rows]` (default 200,000) measures the
nightly path without and with a field key instead (its own section).

- `COPY` (the limit): one `COPY raw_copy (source_id, record, source_updated_at, _batch_id,
  _deleted) FROM STDIN` of every row into a table shaped like a raw table (same primary key and
  index), the JSON encoded by `json.dumps`, one transaction.
- The nightly path: `puente.extract.extract_source` with a connector that serves the records in
  API pages of 250 (a Shopify page) with a cursor each, at the default block size: pages are
  buffered into blocks of 5,000 rows and each block is landed by `load_page` and committed with
  its cursor and the batch counters in one transaction, exactly as a night does it (the ids
  listing and the count reconciliation, which need the source, are left out).
- `load_page` alone at fixed transaction sizes, for comparison: one 250-row page per
  transaction (what extraction did before blocks) and 5,000 rows per transaction.

The raw table is empty at the start of each (a first, full extraction). Each variant runs
three times (alternating, tables emptied in between); the medians and their ratio go into
bench/RESULTS.md. Goal: the nightly path at least half of COPY.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta

import psycopg

from bench.results import machine, markdown_table, write_section
from puente import warehouse
from puente.extract import DEFAULT_BLOCK_ROWS, extract_source
from puente.field_crypto import FieldKeys, new_key
from puente.load import load_page
from puente.sources.base import Page, Record

RAW = warehouse.raw_object("shopify", "orders")
RUNS = 3
API_PAGE = 250  # a Shopify page
PAGE_SIZES = (API_PAGE, DEFAULT_BLOCK_ROWS)
NIGHTLY = f"nightly path: API pages of {API_PAGE} in blocks of {DEFAULT_BLOCK_ROWS:,} rows"
FIRST = ("Juan", "María", "Andrés", "Lucía", "Carlos", "Valentina", "Santiago", "Isabella", "José", "Camila")
LAST = ("Pérez", "Gómez", "Rodríguez", "Martínez", "López", "García", "Hernández", "Díaz", "Muñoz", "Rojas")
CITIES = ("Bogotá", "Medellín", "Cali", "Barranquilla", "Cartagena", "Bucaramanga", "Pereira", "Manizales")
PRODUCTS = ("Café de origen 500 g", "Panela orgánica 1 kg", "Mochila wayuu", "Sombrero vueltiao",
            "Chocolate de mesa", "Bocadillo veleño x 24", "Arepa de chócolo x 10", "Aguardiente 750 ml")


def make_records(rows: int, seed: int = 1) -> list[Record]:
    rng = random.Random(seed)
    start = datetime(2025, 1, 1, tzinfo=UTC)
    zone = timedelta(hours=-5)
    out = []
    for n in range(rows):
        oid = 5_900_000_000_000 + n * 7
        first, last, city = rng.choice(FIRST), rng.choice(LAST), rng.choice(CITIES)
        created = start + timedelta(seconds=n * 30 + rng.randrange(30))
        updated = created + timedelta(hours=rng.randrange(72))
        stamp = (updated + zone).replace(tzinfo=None).isoformat(timespec="seconds") + "-05:00"
        lines = [{"id": 14_800_000_000_000 + n * 10 + i, "product_id": 8_300_000_000_000 + rng.randrange(5000),
                  "variant_id": 44_100_000_000_000 + rng.randrange(5000), "sku": f"CA-{rng.randrange(10000):05d}",
                  "title": rng.choice(PRODUCTS), "quantity": rng.randint(1, 3),
                  "price": f"{rng.randrange(50, 900) * 100:.2f}"} for i in range(rng.randint(1, 6))]
        total = sum(float(line["price"]) * line["quantity"] for line in lines)
        email = f"{first.lower()}.{last.lower()}{rng.randrange(1000)}@example.com.co"
        payload = {
            "id": oid, "name": f"#{1000 + n}", "order_number": 1000 + n, "email": email,
            "created_at": stamp, "updated_at": stamp, "processed_at": stamp, "cancelled_at": None,
            "closed_at": None, "financial_status": rng.choice(("paid", "pending", "refunded")),
            "fulfillment_status": rng.choice((None, "fulfilled", "partial")), "currency": "COP",
            "total_price": f"{total * 1.19:.2f}", "subtotal_price": f"{total:.2f}",
            "total_tax": f"{total * 0.19:.2f}", "tags": "", "note": None,
            "customer": {"id": 7_400_000_000_000 + rng.randrange(100_000), "email": email,
                         "first_name": first, "last_name": last, "phone": f"+57 3{rng.randrange(10**9):09d}"},
            "billing_address": {"first_name": first, "last_name": last, "address1": f"Calle {rng.randrange(200)} "
                                f"# {rng.randrange(100)}-{rng.randrange(100)}", "city": city,
                                "country": "Colombia", "country_code": "CO"},
            "line_items": lines,
        }
        out.append(Record(payload, str(oid), stamp))
    return out


def _copy_reference(url: str, records: list[Record]) -> float:
    with psycopg.connect(url) as conn:
        conn.execute("truncate raw_copy")
        conn.commit()
        began = time.perf_counter()
        with conn.cursor() as cur, cur.copy(
                "copy raw_copy (source_id, record, source_updated_at, _batch_id, _deleted) from stdin") as copy:
            for record in records:
                copy.write_row((record.source_id, json.dumps(record.payload), record.updated_at, "copy", False))
        conn.commit()
        return time.perf_counter() - began


def _loader(url: str, records: list[Record], page_size: int) -> float:
    with psycopg.connect(url) as conn:
        conn.execute(f"truncate {RAW.qualified_table}")
        conn.commit()
        began = time.perf_counter()
        for start in range(0, len(records), page_size):
            with conn.transaction():
                counts = load_page(conn, RAW, records[start:start + page_size], "bench")
            assert counts.inserted == len(records[start:start + page_size]), counts
        return time.perf_counter() - began


class _Served:
    """A connector that serves ``records`` in API pages, each with the cursor it allows."""

    source, objects, requests_made = "shopify", ("orders",), 0

    def __init__(self, records: list[Record], page_size: int):
        self.records, self.page_size = records, page_size

    def extract(self, obj: str, cursor: str | None, until: str | None = None):
        for start in range(0, len(self.records), self.page_size):
            page = self.records[start:start + self.page_size]
            yield Page(page, max(record.updated_at for record in page))

    def cursor_at(self, moment: datetime) -> str:
        return moment.isoformat()

    def close(self) -> None:
        pass


def _nightly(url: str, records: list[Record], field_keys: FieldKeys | None = None) -> float:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"truncate {RAW.qualified_table}, ops.extract_state, ops.load_batches, ops.sealed_keys")
    began = time.perf_counter()
    summary = extract_source(url, "shopify", None, date(2026, 11, 22), objects=["orders"], full_refresh=True,
                             detect_deletes=False, reconcile_counts=False,
                             connector=_Served(records, API_PAGE), block_rows=DEFAULT_BLOCK_ROWS,
                             field_keys=field_keys)["orders"]
    seconds = time.perf_counter() - began
    assert summary["status"] == "ok" and summary["inserted"] == len(records), summary
    return seconds


def run(rows: int, progress=print) -> tuple[str, dict]:
    server = warehouse.warehouse_url()
    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    warehouse.create_database(server, name)
    url = warehouse.with_database(server, name)
    try:
        warehouse.ensure_schema(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"create table raw_copy (like {RAW.qualified_table} including all)")
            # A commit costs a WAL flush only with fsync on: the embedded server runs with it off,
            # which flatters one-page-per-transaction loading against a production server.
            settings = ", ".join(f"{name} {conn.execute(f'show {name}').fetchone()[0]}"
                                 for name in ("fsync", "synchronous_commit"))
        progress(f"generating {rows:,} records")
        records = make_records(rows)
        size = sum(len(json.dumps(r.payload)) for r in records[:1000]) / 1000
        fixed = {page: f"load_page alone, {page:,} rows per transaction" for page in PAGE_SIZES}
        times: dict[str, list[float]] = {"COPY": [], NIGHTLY: []} | {label: [] for label in fixed.values()}
        for n in range(RUNS):
            times["COPY"].append(_copy_reference(url, records))
            progress(f"run {n + 1}: COPY {times['COPY'][-1]:.1f} s")
            times[NIGHTLY].append(_nightly(url, records))
            progress(f"run {n + 1}: {NIGHTLY}: {times[NIGHTLY][-1]:.1f} s")
            for page, label in fixed.items():
                times[label].append(_loader(url, records, page))
                progress(f"run {n + 1}: {label}: {times[label][-1]:.1f} s")
    finally:
        warehouse.drop_database(server, name)
    reference = statistics.median(times["COPY"])
    table = []
    for label, seconds in times.items():
        median = statistics.median(seconds)
        table.append([label, f"{rows / median:,.0f}", f"{median:.1f}", ", ".join(f"{s:.1f}" for s in seconds),
                      f"{reference / median:.2f}"])
    body = (f"{rows:,} Shopify orders (about {size:,.0f} bytes of JSON each), empty tables, {RUNS} runs each, "
            "medians; ratio = loader rows/s ÷ COPY rows/s (goal ≥ 0.5 for the nightly path, which is how "
            "`puente.extract` loads: API pages buffered into blocks, one transaction per block with its "
            f"cursor). Server: {settings}.\n\n"
            + markdown_table(["what", "rows/s", "median s", "runs (s)", "ratio to COPY"], table))
    return body, {label: statistics.median(s) for label, s in times.items()}


def run_sealed(rows: int, progress=print) -> str:
    """The nightly path without and with a field key (``puente.field_crypto``): with one, every
    order's customer phone is sealed and its identity keys derived first (``puente.sealed_keys``)."""
    server = warehouse.warehouse_url()
    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    warehouse.create_database(server, name)
    url = warehouse.with_database(server, name)
    keys = FieldKeys.parse(new_key())
    sealed = "nightly path with a field key (phones sealed, their identity keys derived)"
    try:
        warehouse.ensure_schema(url)
        progress(f"generating {rows:,} records")
        records = make_records(rows)
        phones = len({r.payload["customer"]["phone"] for r in records})
        times: dict[str, list[float]] = {NIGHTLY: [], sealed: []}
        for n in range(RUNS):
            times[NIGHTLY].append(_nightly(url, records))
            progress(f"run {n + 1}: {NIGHTLY}: {times[NIGHTLY][-1]:.1f} s")
            times[sealed].append(_nightly(url, records, keys))
            progress(f"run {n + 1}: {sealed}: {times[sealed][-1]:.1f} s")
        with psycopg.connect(url) as conn:
            derived = conn.execute("select count(*) from ops.sealed_keys").fetchone()[0]
    finally:
        warehouse.drop_database(server, name)
    clear = statistics.median(times[NIGHTLY])
    table = [[label, f"{rows / statistics.median(s):,.0f}", f"{statistics.median(s):.1f}",
              ", ".join(f"{x:.1f}" for x in s), f"{statistics.median(s) / clear:.2f}"] for label, s in times.items()]
    return (f"{rows:,} Shopify orders, {phones:,} distinct customer phones, empty tables, {RUNS} runs each, medians. "
            f"With the key the loader keeps {derived:,} rows of identity keys (one per phone and country: "
            f"var identity_key_countries and one for any other).\n\n"
            + markdown_table(["what", "rows/s", "median s", "runs (s)", "time ÷ without a key"], table))


def main(argv: list[str]) -> int:
    sealed = "--field-key" in argv
    argv = [a for a in argv if a != "--field-key"]
    rows = int(argv[0]) if argv else (200_000 if sealed else 1_000_000)
    began = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - began:6.0f} s] {message}", flush=True)

    progress(f"machine: {machine()}")
    if sealed:
        body = run_sealed(rows, progress)
        command = "python -m bench.load --field-key" + (f" {rows}" if argv else "")
        write_section("load-sealed", "Loading with a field key: phones sealed and their identity keys derived",
                      command, body)
    else:
        body, _ = run(rows, progress)
        command = "python -m bench.load" + (f" {rows}" if argv else "")
        write_section("load", "Loading: raw loader vs plain COPY", command, body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
