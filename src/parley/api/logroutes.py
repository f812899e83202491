"""The transparency log over HTTP, and this server as a log witness for other logs.

* ``GET /api/log/setup``: the log's vkey and log-witness policy (what a charter names).
* ``GET /log/checkpoint`` and ``GET /log/tile/…``: the log in the c2sp.org/tlog-tiles layout
  under the prefix ``/log``, so any tlog-tiles client can read it. Tiles are built from the
  stored hashes on request; every tile, full or partial, is immutable once it exists, and is
  served as such. A checkpoint is signed (and cosigned by the local log witnesses) on request when
  the log has grown since the last one.
* ``GET /log/proof/inclusion`` and ``/log/proof/consistency``: RFC 9162 proofs as JSON.
* ``POST /add-checkpoint``: c2sp.org/tlog-witness, answered exactly as
  ``core.witness.add_checkpoint`` decides, with the witness's record kept in the store so that
  every API process shares it.
"""

from __future__ import annotations

import base64
import time
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool

from parley.api import schemas as s
from parley.api.context import Context, Ctx, anyone
from parley.api.routes import ERRORS, json_response, text_response
from parley.core import merkle, tiles
from parley.core.canonical import MAX_SAFE_INTEGER
from parley.core.witness import Outcome, add_checkpoint
from parley.errors import InvalidInputError, NotFoundError
from parley.services import Services, server_witness_state
from parley.store import Transaction

router = APIRouter(dependencies=[Depends(anyone)])

IMMUTABLE = "public, max-age=31536000, immutable"
Size = Annotated[int, Query(ge=0, le=MAX_SAFE_INTEGER)]
_TEXT = {"text/plain": {"schema": {"type": "string"}}}
_BYTES = {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}


@router.get("/api/log/setup", response_model=s.LogSetupOut, responses=ERRORS)
def log_setup(ctx: Ctx) -> Response:
    """The log's verifier key, origin and log-witness policy."""
    setup = ctx.services.log_setup
    if setup is None:
        raise NotFoundError("this server keeps no transparency log")
    witnesses = [{"name": name, "vkey": key.public().vkey()} for name, key in setup.witnesses]
    return json_response(
        {
            "origin": setup.origin,
            "vkey": setup.key.public().vkey(),
            "witness_policy": setup.witness_policy(),
            "witnesses": witnesses,
        }
    )


@router.get(
    "/log/checkpoint",
    response_class=Response,
    responses={200: {"description": "OK", "content": _TEXT}, **ERRORS},
)
def checkpoint(ctx: Ctx) -> Response:
    """The latest checkpoint, signed and cosigned (a new one first if the log has grown)."""
    stored = ctx.services.publish()
    if stored is None:
        raise NotFoundError("this server keeps no transparency log")
    response = text_response(stored.note)
    response.headers["Cache-Control"] = "no-cache"
    return response


@router.get(
    "/log/tile/{path:path}",
    response_class=Response,
    responses={200: {"description": "OK", "content": _BYTES}, **ERRORS},
)
def tile(path: str, ctx: Ctx) -> Response:
    """A hash tile (``tile/<L>/<N>[.p/<W>]``) or entry bundle (``tile/entries/<N>[.p/<W>]``)."""
    data = tile_bytes(ctx.services, "tile/" + path)
    return Response(
        data, media_type="application/octet-stream", headers={"Cache-Control": IMMUTABLE}
    )


def tile_bytes(services: Services, path: str) -> bytes:
    """The bytes of the tile at ``path``, if the log has grown that far; else NotFoundError."""
    try:
        wanted = tiles.parse_tile_path(path)
    except InvalidInputError as exc:
        raise NotFoundError(f"no tile {path[:120]!r}: {exc}") from exc
    level = 0 if wanted.is_entries else wanted.level
    with services.reading() as tx:
        size = tx.log_size()
        try:
            available = tiles.tile_width(level, wanted.n, size)
        except InvalidInputError as exc:
            raise NotFoundError(f"no tile {wanted.path}: {exc}") from exc
        if wanted.width > available:
            raise NotFoundError(f"no tile {wanted.path}: the log has only {size} entries")
        if wanted.is_entries:
            return _entry_bundle(tx, wanted)
        return tiles.tile_bytes(wanted.level, wanted.n, wanted.width, tx)


def _entry_bundle(tx: Transaction, bundle: tiles.Tile) -> bytes:
    first = bundle.n * tiles.TILE_WIDTH
    entries = [bytes.fromhex(tx.log_entry(i)) for i in range(first, first + bundle.width)]
    return tiles.encode_entry_bundle(entries)


@router.get("/log/proof/inclusion", response_model=s.InclusionOut, responses=ERRORS)
def inclusion(index: Size, size: Size, ctx: Ctx) -> Response:
    """PATH(index, D[0:size]): entry ``index`` is in the tree of ``size`` entries."""
    with ctx.services.reading() as tx:
        _check_size(size, tx)
        hashes = merkle.prove_inclusion(index, size, tx)
    return json_response({"index": index, "size": size, "hashes": _b64(hashes)})


@router.get("/log/proof/consistency", response_model=s.ConsistencyOut, responses=ERRORS)
def consistency(old: Size, new: Size, ctx: Ctx) -> Response:
    """PROOF(old, D[0:new]): the tree of ``new`` entries extends the tree of ``old``."""
    with ctx.services.reading() as tx:
        _check_size(new, tx)
        hashes = merkle.prove_consistency(old, new, tx)
    return json_response({"old": old, "new": new, "hashes": _b64(hashes)})


def _check_size(size: int, tx: Transaction) -> None:
    have = tx.log_size()
    if size > have:
        raise NotFoundError(f"the log has {have} entries, not {size}")


def _b64(hashes: list[bytes]) -> list[str]:
    return [base64.b64encode(h).decode() for h in hashes]


# --- acting as a log witness ---------------------------------------------------------------------

_WITNESS_BODY = {"required": True, "content": _TEXT}
_WITNESS_ANSWERS: dict[int | str, dict[str, Any]] = {
    200: {"description": "Cosigned: the cosignature lines.", "content": _TEXT},
    400: {"description": "Malformed request.", "content": _TEXT},
    403: {"description": "The log's signature does not verify.", "content": _TEXT},
    404: {"description": "Unknown log origin.", "content": _TEXT},
    409: {
        "description": "Old size is not the latest cosigned size.",
        "content": {"text/x.tlog.size": {"schema": {"type": "string"}}},
    },
    413: {"model": s.ErrorBody, "description": "The body is too large."},
    422: {"description": "The proof does not verify.", "content": _TEXT},
    429: {"model": s.ErrorBody, "description": "Too many requests."},
    503: {"model": s.ErrorBody, "description": "The store is unavailable."},
}


@router.post(
    "/add-checkpoint",
    response_class=Response,
    responses=_WITNESS_ANSWERS,
    openapi_extra={"requestBody": _WITNESS_BODY},
)
async def witness_add_checkpoint(request: Request, ctx: Ctx) -> Response:
    """c2sp.org/tlog-witness add-checkpoint: cosign a checkpoint of a log this server trusts."""
    data = await request.body()
    outcome = await run_in_threadpool(witness_answer, ctx, data, int(time.time()))
    # the content type exactly as the spec has it (no charset added)
    return Response(outcome.body, outcome.status, headers={"Content-Type": outcome.content_type})


def witness_answer(ctx: Context, body: bytes, now: int) -> Outcome:
    """Run add-checkpoint in one store transaction (the record's compare-and-set is in it)."""
    witness = ctx.witness
    if witness is None:
        message = "this server is not a log witness\n"
        return Outcome(404, message.encode(), "text/plain; charset=utf-8", message.strip())
    with ctx.services.store.transaction() as tx:
        state = server_witness_state(tx, [key.name for key in witness.keys])
        return add_checkpoint(witness, state, body, now)
