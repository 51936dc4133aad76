"""Where a bad request body is refused: strict JSON decoding and the 422 body that describes it.

Python's json module accepts NaN and Infinity (not JSON, RFC 8259 §6), lone UTF-16 surrogates
(not text) and nesting until the interpreter's recursion limit; FastAPI's default 422 handler
then echoes the offending input, which fails for NaN or bytes (HTTP 500) and reflects secrets
such as an enrolment token. Here every route's body is decoded strictly (a refusal is FastAPI's
`json_invalid` 422 with the position), and a validation error answers with the location, the
message and the error type — never the input — so it always renders.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute

_NON_FINITE = ("NaN", "Infinity", "-Infinity")


class _NonFinite(ValueError):
    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _refuse_constant(name: str) -> Any:
    raise _NonFinite(name)


def _constant_position(text: str, name: str) -> int:
    """Offset of the first `name` outside a string (for the error's location)."""
    in_string = escaped = False
    for i, ch in enumerate(text):
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif text.startswith(name, i) and not (name == "Infinity" and i and text[i - 1] == "-"):
            return i
    return 0


def _has_lone_surrogate(value: Any) -> bool:
    stack = [value]
    while stack:
        v = stack.pop()
        if isinstance(v, str):
            try:
                v.encode("utf-8")
            except UnicodeEncodeError:
                return True
        elif isinstance(v, dict):
            stack.extend(v.keys())
            stack.extend(v.values())
        elif isinstance(v, list):
            stack.extend(v)
    return False


def decode_json(body: bytes) -> Any:
    """The JSON document in `body`, or json.JSONDecodeError saying what is wrong and where."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise json.JSONDecodeError("the body is not UTF-8", body.decode("utf-8", "replace"), e.start) from e
    try:
        value = json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError:
        raise
    except _NonFinite as e:
        raise json.JSONDecodeError(f"{e.name} is not a JSON number: send a finite number (or null)", text,
                                   _constant_position(text, e.name)) from e
    except RecursionError as e:
        raise json.JSONDecodeError("nested too deeply", text, 0) from e
    except ValueError as e:  # e.g. an integer of more than 4300 digits
        raise json.JSONDecodeError(f"unreadable number: {e}", text, 0) from e
    if _has_lone_surrogate(value):
        raise json.JSONDecodeError("a string holds a lone UTF-16 surrogate (\\ud800-\\udfff): not text", text, 0)
    return value


class StrictJsonRequest(Request):
    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = decode_json(await self.body())
        return self._json


class StrictJsonRoute(APIRoute):
    """Routes whose JSON bodies are decoded by decode_json (set as the app router's route_class)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJsonRequest(request.scope, request.receive))

        return strict_handler


def _safe(value: Any) -> Any:
    if isinstance(value, bool | int | str) or value is None:
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)[:200]


def validation_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    """FastAPI's 422 items (loc, msg, type, ctx) without the input, every value JSON-safe."""
    out = []
    for err in exc.errors():
        item: dict[str, Any] = {"loc": [p if isinstance(p, int | str) else str(p) for p in err.get("loc", ())],
                                "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
        ctx = err.get("ctx")
        if isinstance(ctx, dict) and ctx:
            item["ctx"] = {str(k): _safe(v) for k, v in ctx.items()}
            if item["type"] == "json_invalid" and "error" in ctx:
                item["msg"] = f"JSON decode error: {ctx['error']}"
        out.append(item)
    return out


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse({"detail": validation_errors(exc)}, status_code=422)
