"""`make bench-load`: the raw loader's rows per second against a plain COPY of the same rows.

Run `python -m bench.load [rows]` (default 1,000,000). Both sides run on the same PostgreSQL
(the embedded one, or PUENTE_WAREHOUSE_URL's server) in a fresh database, in the same run, on
the same Python records: realistic Shopify orders (customer, addresses, 1-6 line items; about
1.3 kB of JSON each).

- `COPY` (the limit): one `COPY raw_copy (source_id, record, source_updated_at, _batch_id,
  _deleted) FROM STDIN` of every row into a table shaped like a raw table (same primary key and
  index), the JSON encoded by `json.dumps`, one transaction.
- The loader: `puente.load.load_page` exactly as an extraction calls it, one transaction per page
  (validation, quarantine checks, COPY into a temporary table, one upsert into the raw table),
  at the page size of a Shopify API page (250) and at 5,000. The raw table is
  empty at the start (a first, full extraction).

Each side runs three times (alternating, tables emptied in between); the medians and their
ratio go into bench/RESULTS.md. Goal: the loader at least half of COPY.
"""

from __future__ import annotations

import json
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta

import psycopg

from bench.results import machine, markdown_table, write_section
from puente import warehouse
from puente.load import load_page
from puente.sources.base import Record

RAW = warehouse.raw_object("shopify", "orders")
RUNS = 3
PAGE_SIZES = (250, 5000)
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


def run(rows: int, progress=print) -> tuple[str, dict]:
    server = warehouse.warehouse_url()
    name = f"bench_load_{uuid.uuid4().hex[:8]}"
    warehouse.create_database(server, name)
    url = warehouse.with_database(server, name)
    try:
        warehouse.ensure_schema(url)
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"create table raw_copy (like {RAW.qualified_table} including all)")
        progress(f"generating {rows:,} records")
        records = make_records(rows)
        size = sum(len(json.dumps(r.payload)) for r in records[:1000]) / 1000
        times: dict[str, list[float]] = {"COPY": []} | {f"loader, pages of {p}": [] for p in PAGE_SIZES}
        for n in range(RUNS):
            times["COPY"].append(_copy_reference(url, records))
            progress(f"run {n + 1}: COPY {times['COPY'][-1]:.1f} s")
            for page in PAGE_SIZES:
                times[f"loader, pages of {page}"].append(_loader(url, records, page))
                progress(f"run {n + 1}: loader pages of {page}: {times[f'loader, pages of {page}'][-1]:.1f} s")
    finally:
        warehouse.drop_database(server, name)
    reference = statistics.median(times["COPY"])
    table = []
    for label, seconds in times.items():
        median = statistics.median(seconds)
        table.append([label, f"{rows / median:,.0f}", f"{median:.1f}", ", ".join(f"{s:.1f}" for s in seconds),
                      f"{reference / median:.2f}"])
    body = (f"{rows:,} Shopify orders (about {size:,.0f} bytes of JSON each), empty tables, {RUNS} runs each, "
            "medians; ratio = loader rows/s ÷ COPY rows/s (goal ≥ 0.5).\n\n"
            + markdown_table(["what", "rows/s", "median s", "runs (s)", "ratio to COPY"], table))
    return body, {label: statistics.median(s) for label, s in times.items()}


def main(argv: list[str]) -> int:
    rows = int(argv[0]) if argv else 1_000_000
    began = time.perf_counter()

    def progress(message: str) -> None:
        print(f"[{time.perf_counter() - began:6.0f} s] {message}", flush=True)

    progress(f"machine: {machine()}")
    body, _ = run(rows, progress)
    command = "python -m bench.load" + (f" {rows}" if argv else "")
    write_section("load", "Loading: raw loader vs plain COPY", command, body)
    print(body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
