"""The web server: Starlette routes for the page and its two JSON endpoints.

    GET  /             the page
    POST /api/derive   {"f", "wrt", "vars", "kind"} -> service.derive
    POST /api/verify   {"claim", "vars"}            -> service.verify

A request body over MAX_BODY bytes is refused (413), bad input answers 400 with the message,
and the engine runs in a worker thread under its own budgets (seconds per call), so the server
stays responsive.  `serve` binds 127.0.0.1 unless told otherwise.
"""
from __future__ import annotations

import json
from importlib import resources

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse
from starlette.routing import Route

from ..errors import InputError, RewriteError
from ..syntax import MAX_CHARS
from . import service

MAX_BODY = 4 * MAX_CHARS   # bytes: a term at the parser's limit, its declarations, JSON around it


def _page() -> str:
    return resources.files(__package__).joinpath("page.html").read_text(encoding="utf-8")


async def page(request: Request) -> HTMLResponse:
    return HTMLResponse(_page())


def _endpoint(work):
    async def handle(request: Request) -> JSONResponse:
        body = await request.body()
        if len(body) > MAX_BODY:
            return JSONResponse({"error": f"the request is over the limit of {MAX_BODY:,} bytes"}, 413)
        try:
            data = json.loads(body or b"{}")
            if not isinstance(data, dict):
                raise ValueError("not an object")
        except ValueError:
            return JSONResponse({"error": "the request is not a JSON object"}, 400)
        try:
            return JSONResponse(await run_in_threadpool(work, data))
        except InputError as err:
            return JSONResponse({"error": str(err)}, 400)
        except (RewriteError, RecursionError, MemoryError) as err:
            return JSONResponse({"error": f"{type(err).__name__}: {err}"}, 500)
    return handle


app = Starlette(routes=[Route("/", page), Route("/api/derive", _endpoint(service.derive), methods=["POST"]),
                        Route("/api/verify", _endpoint(service.verify), methods=["POST"])])


def serve(host: str = "127.0.0.1", port: int = 8000) -> None:
    import uvicorn

    uvicorn.run(app, host=host, port=port, log_level="warning")
