"""Answers shared by the three simulated APIs: JSON as the services write it, and broken connections.

- ``WireJSON``: JSON with non-ASCII characters escaped (``\\u00e9``), as HubSpot and Shopify send
  it. Escaping lets a malformed record carry a lone UTF-16 surrogate (``\\ud83d``, a string cut
  inside an emoji) to the client, which is exactly what a client then has to cope with.
- ``hang_then_drop`` and ``drop``: an answer that never comes (the client's read timeout fires)
  and a connection closed after the headers (the client sees an incomplete body). Both end the
  HTTP exchange with ``SimulatedDisconnect``; the server's error log ignores it, since it is the
  point.
"""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

from fastapi import FastAPI
from fastapi.responses import JSONResponse, StreamingResponse


class WireJSON(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


class SimulatedDisconnect(ConnectionAbortedError):
    """Raised inside the server to drop a connection on purpose."""


class _IgnoreSimulatedDisconnects(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], SimulatedDisconnect))


logging.getLogger("uvicorn.error").addFilter(_IgnoreSimulatedDisconnects())


def drop() -> StreamingResponse:
    """Headers, a first chunk, then the connection closes: an incomplete answer."""
    async def body():
        yield b'{"results": ['
        raise SimulatedDisconnect("connection dropped by fault injection")
    return StreamingResponse(body(), media_type="application/json")


async def hang_then_drop(seconds: float) -> StreamingResponse:
    await asyncio.sleep(seconds)
    return drop()


async def request_fault(fault: str | None, hang_seconds: float) -> StreamingResponse | None:
    """The broken answer for ``timeout``/``disconnect`` faults, None for the others."""
    if fault == "timeout":
        return await hang_then_drop(hang_seconds)
    if fault == "disconnect":
        return drop()
    return None


def local_path(request: Any) -> str:
    """The request's path inside the mounted service (``/crm/v3/…``, not ``/hubspot/crm/v3/…``)."""
    path, root = request.scope.get("path", ""), request.scope.get("root_path", "")
    return path[len(root):] if root and path.startswith(root) else path


def service_app(title: str, error: type[Exception] | None = None) -> FastAPI:
    """A simulated service's app: no documentation pages (the real services have none at their API's
    address), and ``error``'s exceptions answered in the service's own error shape (their
    ``response()``)."""
    app = FastAPI(title=title, docs_url=None, redoc_url=None, openapi_url=None)
    if error is not None:
        @app.exception_handler(error)
        async def service_error(request: Any, exc: Any) -> Any:
            return exc.response()
    return app


async def drawn_fault(request: Any, faults: Any) -> tuple[str, str | None, StreamingResponse | None]:
    """The request's local path, the fault drawn for it (``faults``: a ``limits.FaultInjector``)
    and, for a hang or a dropped connection, the broken answer to give instead of the real one."""
    path = local_path(request)
    fault = faults.draw(path)
    return path, fault, await request_fault(fault, faults.hang_seconds)
