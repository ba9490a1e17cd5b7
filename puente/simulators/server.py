"""Running the simulators: in a background thread for tests, or in the foreground from the CLI.

``SimulatorServer(app)`` binds its socket before uvicorn starts (port 0 picks a free port, with
no race between choosing and binding), serves from a daemon thread and stops on exit::

    with SimulatorServer(create_app(business, credentials)) as server:
        httpx.get(f"{server.base_url}/_sim/state")

``python -m puente.simulators serve …`` runs the same app until Ctrl-C.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from datetime import date

import uvicorn
from fastapi import FastAPI

from puente.cli import iso_day
from puente.simulators.app import ENV as SIMULATOR_ENV
from puente.simulators.app import SECRETS, Credentials, create_app
from puente.simulators.business import Business, Habits
from puente.simulators.systems import opt_in_systems, simulated
from puente.sources.registry import SOURCES


class SimulatorServer:
    """A uvicorn server for ``app`` in a background thread; ``base_url`` once started."""

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 0, start_timeout: float = 10.0):
        self.app, self.host, self.port, self.start_timeout = app, host, port, start_timeout
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def __enter__(self) -> SimulatorServer:
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((self.host, self.port))
        self.port = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", lifespan="off", access_log=False,
                                date_header=False)  # the app dates answers with the business's clock
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name=f"simulators:{self.port}", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.__exit__(None, None, None)
                raise RuntimeError(f"the simulators did not start on {self.base_url}")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._socket is not None:
            self._socket.close()


def _mask(secret: str) -> str:
    return f"{secret[:6]}…({len(secret)} characters)"


# Systems the simulated business runs only when asked (``serve --<name>``; each simulator's
# ``Simulated.opt_in``); the others always.
OPT_IN_SYSTEMS = opt_in_systems()


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m puente.simulators",
        description=f"Local simulators of {', '.join(s.title for s in SOURCES)} "
                    f"over one generated Colombian SME. Credentials come from {', '.join(SIMULATOR_ENV.values())}; "
                    "secrets not set are generated at start.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve every simulated API and the /_sim admin API until Ctrl-C")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default: %(default)s)")
    serve.add_argument("--port", type=int, default=8765, help="port to listen on, 0 for any free one "
                                                              "(default: %(default)s)")
    serve.add_argument("--seed", type=int, default=7, help="seed of the generated business (default: %(default)s)")
    serve.add_argument("--customers", type=int, default=300,
                       help="people in the business at the start date (default: %(default)s)")
    serve.add_argument("--start", type=iso_day, default=date(2026, 11, 16),
                       help="the simulated today, YYYY-MM-DD; history is generated up to its end "
                            "(default: %(default)s)")
    serve.add_argument("--history-days", type=int, default=540,
                       help="days of history before the start date (default: %(default)s)")
    habits = Habits()
    serve.add_argument("--web-orders-retyped", type=float, default=habits.web_orders_retyped,
                       help="share of web orders a person retypes into the ERP; the rest wait for Puente "
                            "(default: %(default)s)")
    serve.add_argument("--won-deals-entered", type=float, default=habits.won_deals_entered,
                       help="share of won deals a salesperson keys into the ERP (default: %(default)s)")
    for system in simulated():
        if system.opt_in:
            serve.add_argument(f"--{system.name}", action="store_true", help=system.opt_in)
    serve.add_argument("--shop-stock-every-days", type=float, default=habits.shop_stock_every_days,
                       help="about how often someone copies the ERP's stock into the shop (default: %(default)s)")
    serve.add_argument("--company-country", default="CO",
                       help="the ERP company's country (ISO code); CO gives its invoices the DIAN's answers "
                            "(Odoo's l10n_co_dian). Set Puente's dbt var default_country_code alike "
                            "(default: %(default)s)")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    began = time.monotonic()
    try:
        habits = Habits(web_orders_retyped=args.web_orders_retyped, won_deals_entered=args.won_deals_entered,
                        shop_stock_every_days=args.shop_stock_every_days)
        business = Business(seed=args.seed, customers=args.customers, start=args.start,
                            history_days=args.history_days, habits=habits, company_country=args.company_country,
                            **{option: value for system in simulated() if system.opt_in and getattr(args, system.name)
                               for option, value in system.business_options.items()})
    except ValueError as error:  # the business's own checks (a share above 1, no customers): the option's fault
        parser.error(str(error))
    credentials, generated = Credentials.from_env()
    print(f"Generated {args.customers} customers and {args.history_days} days of history up to "
          f"{business.today} (seed {args.seed}) in {time.monotonic() - began:.1f} s.")
    base = f"http://{args.host}:{args.port}"
    for system in simulated():
        asked = not system.opt_in or getattr(args, system.name)
        print(f"  {system.title + ':':<30} {base}{system.endpoint(credentials)}"
              + ("" if asked else f"  (empty: start with --{system.name})"))
    print(f"  Admin: {base}/_sim/state, POST {base}/_sim/advance, {base}/_sim/truth, {base}/_sim/integration")
    for name in SECRETS:
        var = SIMULATOR_ENV[name]
        origin = "not set: generated for this run" if var in generated else "from the environment"
        print(f"  {var}: {origin} ({_mask(getattr(credentials, name))})")
    if generated:
        print("  Set those variables before starting to choose the secrets clients use.")
    uvicorn.run(create_app(business, credentials), host=args.host, port=args.port, log_level="warning",
                date_header=False)
    return 0
