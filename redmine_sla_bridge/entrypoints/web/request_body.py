"""Reading a request body within its limits, and JSON text the parser can take safely.

Every limit has its 4xx, checked before the work it protects:

- size: a body over `max_body_bytes` is 413, with or without Content-Length. A chunked
  body has none, and Werkzeug's own limit then silently cuts the body at the limit (the
  handler saw a truncated body and answered 401 or 400); here at most limit + 1 bytes
  are read, and the extra byte means 413.
- encoding: JSON between systems is UTF-8 (RFC 8259, section 8.1); anything else is 400.
  (`json.loads` on bytes would also guess UTF-16 or UTF-32, which no sender uses.)
- nesting: Python's parser recurses once per level and raises RecursionError on deep
  input (a 5xx). The depth is counted first, in a few linear passes of the regex engine,
  and over `MAX_JSON_DEPTH` is 400.
"""

from __future__ import annotations

import json
import re
from itertools import accumulate
from typing import Any

# Redmine's webhooks nest 5 levels, an intake request 3; 64 leaves room for any sender
# and stays far below the parser's recursion limit (about 1,000).
MAX_JSON_DEPTH = 64
_CHUNK = 65536

# A JSON string from its opening quote: to its closing quote, or to the end of the text
# when unterminated (the parser rejects that text anyway). It always matches and never
# backtracks (possessive), so removing all strings is one linear pass: a pattern that
# could fail on an unterminated string would rescan the rest of the text from every
# later quote, quadratic in the body size.
_STRING = re.compile(r'"(?:[^"\\]++|\\.)*+"?', re.DOTALL)
_NOT_BRACKET = re.compile(r"[^\[\]{}]+")
_STEP = {"[": 1, "{": 1, "]": -1, "}": -1}


class BodyRejected(Exception):
    """The body cannot be taken; `status` is the HTTP answer (400, 411 or 413)."""

    def __init__(self, status: int, message: str) -> None:
        self.status = status
        self.message = message
        super().__init__(message)


def read_body(environ: dict[str, Any], limit: int) -> bytes:
    """The request body from the WSGI environ, at most `limit` bytes, else 413.

    With Content-Length, a declared size over the limit is refused before reading a
    byte. Without it (chunked), the server must end the stream for us
    (`wsgi.input_terminated`: gunicorn and Werkzeug's server do): reading up to
    `limit` + 1 bytes tells a body of exactly `limit` bytes from a longer one.
    """
    stream = environ["wsgi.input"]
    declared = environ.get("CONTENT_LENGTH") or None
    if declared is not None:
        try:
            length = int(declared)
        except ValueError:
            raise BodyRejected(400, "Content-Length is not a number") from None
        if length < 0:
            raise BodyRejected(400, "Content-Length is not a number")
        if length > limit:
            raise BodyRejected(413, f"body too large (limit {limit} bytes)")
        body = _read_up_to(stream, length)
        if len(body) < length:
            raise BodyRejected(400, "the body ended before its Content-Length")
        return body
    if not environ.get("wsgi.input_terminated"):
        if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
            # Reading a chunked stream the server does not end could block forever.
            raise BodyRejected(411, "Content-Length required")
        return b""  # neither length nor chunks: the request has no body (RFC 9112, 6.3)
    body = _read_up_to(stream, limit + 1)
    if len(body) > limit:
        raise BodyRejected(413, f"body too large (limit {limit} bytes)")
    return body


def _read_up_to(stream: Any, size: int) -> bytes:
    parts: list[bytes] = []
    got = 0
    while got < size:
        part = stream.read(min(_CHUNK, size - got))
        if not part:
            break
        parts.append(part)
        got += len(part)
    return b"".join(parts)


def json_depth(text: str, stop_above: int | None = None) -> int:
    """How deep arrays and objects nest in a JSON text (brackets inside strings do not
    count); with `stop_above`, the count stops as soon as it passes that depth.

    On invalid text the count may be off, but never below what the parser would recurse
    into before it fails: it reads strings as the parser does."""
    brackets = _NOT_BRACKET.sub("", _STRING.sub("", text))
    depth = deepest = 0
    for start in range(0, len(brackets), _CHUNK):
        # In slices, so that 100,000 opening brackets stop after the first slice.
        levels = list(accumulate(map(_STEP.__getitem__, brackets[start:start + _CHUNK]),
                                 initial=depth))
        deepest, depth = max(deepest, max(levels)), levels[-1]
        if stop_above is not None and deepest > stop_above:
            break
    return deepest


def json_text(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> str:
    """The body as JSON text the parser can take: valid UTF-8, nested at most
    `max_depth` deep; else BodyRejected(400)."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise BodyRejected(400, "the body is not valid UTF-8") from None
    if "\x00" in text:
        # Never valid in JSON text; and `json.loads(bytes)` reads a body with a NUL among
        # its first bytes as UTF-16 or UTF-32, where the brackets counted here are not
        # the ones it would parse.
        raise BodyRejected(400, "the body is not valid JSON (it holds a NUL byte)")
    # Each level needs an opening bracket, so a text with at most `max_depth` of them
    # (inside strings or not) cannot nest deeper: a webhook has about a dozen, and
    # counting them costs a tenth of the scan.
    if (text.count("{") + text.count("[") > max_depth
            and json_depth(text, stop_above=max_depth) > max_depth):
        raise BodyRejected(400, f"the JSON is nested too deep (limit {max_depth} levels)")
    return text


def load_json(body: bytes, max_depth: int = MAX_JSON_DEPTH) -> Any:
    """Parse a JSON body within the limits; every failure is BodyRejected(400)."""
    text = json_text(body, max_depth)
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        # RecursionError cannot happen within the depth limit; kept so that a client's
        # body can never turn into a 5xx whatever the limit is set to.
        raise BodyRejected(400, "the body is not valid JSON") from None
