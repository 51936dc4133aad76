"""The fast path's body reader (cloudctl/api/heartbeat_body.py) against the route's strict decoding
and model (api/request_errors.decode_json + models.HeartbeatRequest), on random bodies: whatever
the fast path accepts, the route accepts with the same values; the ordinary ones it does accept."""

from __future__ import annotations

import json
import math
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from cloudctl.api.heartbeat_body import decode_heartbeat
from cloudctl.api.heartbeats import combine
from cloudctl.api.models import HeartbeatRequest
from cloudctl.api.request_errors import decode_json


def route_reads(body: bytes) -> HeartbeatRequest | None:
    try:
        return HeartbeatRequest.model_validate(decode_json(body))
    except (ValueError, ValidationError):  # json.JSONDecodeError is a ValueError
        return None


def ordinary(seq: int = 7, links: int = 2) -> dict[str, Any]:
    return {"seq": seq, "sent_at": 1765000000.5, "agent_version": "0.9.0", "metrics_address": "10.1.2.3:9101",
            "results": [{"name": f"gw{k}", "kind": "tcp", "target": "10.0.0.1:443", "link_id": f"L{k}", "up": True,
                         "sent": 3, "received": 3, "loss_ratio": 0.0, "rtt_min_s": 0.004, "rtt_avg_s": 0.005,
                         "rtt_max_s": 0.007, "rtt_stddev_s": 0.001} for k in range(links)]}


ODD: list[Any] = [
    None, True, False, -1, 0, 1, 3, 2**53 - 1, 2**53, 2**64, 99_999, 100_000, 100_001, 0.0, -0.0, 1.0, 5.0, 1.5,
    -0.5, 3600.0, 3600.5, 2.0**33, 2.0**33 + 1, math.nan, math.inf, -math.inf, 1e308, "", "1", "tcp", "icmp",
    "http", "udp", "TCP", "a\x01b", "a\nb", "ab\n", "a\u0085b", "x" * 65, "x" * 201, "x" * 501, "h:1", "h:1\n",
    "[::1]:9100", "h:123456", "\ud800", [], [1], {}, {"a": 1}]
odd_values = st.one_of(st.sampled_from(ODD), st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5),
                       st.integers())

result_keys = st.sampled_from(["name", "kind", "target", "link_id", "up", "error", "sent", "received", "loss_ratio",
                               "rtt_min_s", "rtt_avg_s", "rtt_max_s", "rtt_stddev_s", "extra"])
top_keys = st.sampled_from(["seq", "sent_at", "agent_version", "metrics_address", "results", "extra"])


@st.composite
def bodies(draw: st.DrawFn) -> bytes:
    doc: Any = ordinary(draw(st.integers(1, 10**6)), draw(st.integers(0, 3)))
    for _ in range(draw(st.integers(0, 4))):
        where = draw(st.sampled_from(["top", "result", "drop-top", "drop-result", "results"]))
        if where == "top":
            doc[draw(top_keys)] = draw(odd_values)
        elif where == "drop-top":
            doc.pop(draw(top_keys), None)
        elif where == "results":
            doc["results"] = draw(st.sampled_from([None, [], [1], [None], "x", {}]))
        elif isinstance(doc.get("results"), list) and doc["results"] and isinstance(doc["results"][0], dict):
            r = doc["results"][draw(st.integers(0, len(doc["results"]) - 1))]
            if where == "result":
                r[draw(result_keys)] = draw(odd_values)
            else:
                r.pop(draw(result_keys), None)
    text = json.dumps(doc, allow_nan=True, ensure_ascii=draw(st.booleans()))
    raw = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:  # now and then a byte-level blemish
        i = draw(st.integers(0, len(raw)))
        raw = raw[:i] + draw(st.sampled_from([b"\xff", b"NaN", b",", b"}", b" ", b"\\ud800"])) + raw[i:]
    return raw


TOP_KEYS = ["seq", "sent_at", "agent_version", "metrics_address", "results", "extra"]
RESULT_KEYS = ["name", "kind", "target", "link_id", "up", "error", "sent", "received", "loss_ratio", "rtt_min_s",
               "rtt_avg_s", "rtt_max_s", "rtt_stddev_s", "extra"]
_MISSING = object()


def _encode(doc: Any) -> bytes:
    return json.dumps(doc, allow_nan=True, ensure_ascii=False).encode("utf-8", "surrogatepass")


def test_every_single_field_oddity_agrees_with_the_route() -> None:
    """Each field of the body and of a result, set to each odd value or left out, one at a time."""
    accepted = 0
    for key in TOP_KEYS:
        for value in [*ODD, _MISSING]:
            doc = ordinary()
            if value is _MISSING:
                doc.pop(key, None)
            else:
                doc[key] = value
            accepted += agree(_encode(doc))
    for key in RESULT_KEYS:
        for value in [*ODD, _MISSING]:
            doc = ordinary()
            if value is _MISSING:
                doc["results"][1].pop(key, None)
            else:
                doc["results"][1][key] = value
            accepted += agree(_encode(doc))
    assert accepted > 100  # not a vacuous comparison: many of them are the fast path's


@settings(max_examples=1500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies())
def test_what_the_fast_path_accepts_the_route_accepts_with_the_same_values(body: bytes) -> None:
    agree(body)


def agree(body: bytes) -> bool:
    """Whether the fast path took it; fails when it took what the route reads otherwise."""
    fast = decode_heartbeat(body)
    if fast is None:
        return False  # the route decides: nothing to compare
    route = route_reads(body)
    assert route is not None, body
    assert (fast.seq, fast.sent_at, fast.agent_version, fast.metrics_address) == (
        route.seq, route.sent_at, route.agent_version, route.metrics_address)
    dumped = [r.model_dump() for r in route.results]
    assert fast.results == dumped
    assert all(type(a[k]) is type(b[k]) for a, b in zip(fast.results, dumped, strict=True) for k in a)
    assert combine(fast.results) == combine(dumped)
    return True


@given(st.integers(1, 2**53 - 1), st.integers(0, 40), st.booleans())
def test_the_ordinary_heartbeats_are_the_fast_paths(seq: int, links: int, up: bool) -> None:
    doc = ordinary(seq, links)
    for r in doc["results"]:
        r["up"] = up
    if links:  # a result as an agent sends it when the probe failed: nulls and an error
        doc["results"][0].update(up=False, error="timed out", received=0, loss_ratio=1.0, rtt_min_s=None)
    doc["sent_at"] = None if seq % 2 else doc["sent_at"]
    body = json.dumps(doc).encode()
    fast = decode_heartbeat(body)
    assert fast is not None and route_reads(body) is not None
    assert fast.seq == seq and len(fast.results) == links


def test_refusals_and_oddities_go_to_the_route() -> None:
    good = ordinary()
    cases = [
        b"", b"[]", b"{", json.dumps({**good, "seq": 0}).encode(), json.dumps({**good, "seq": 5.0}).encode(),
        json.dumps({**good, "seq": True}).encode(), json.dumps({**good, "sent_at": math.inf}).encode(),
        json.dumps({**good, "extra": 1}).encode(), json.dumps({**good, "agent_version": "a\nb"}).encode(),
        json.dumps({**good, "metrics_address": "h:1\n"}).encode(), b'{"seq": NaN}',
        json.dumps({**good, "results": [{**good["results"][0], "up": 1}]}).encode(),
        json.dumps({**good, "results": [{**good["results"][0], "kind": ["tcp"]}]}).encode(),
        json.dumps({**good, "results": [{**good["results"][0], "name": "\ud800"}]}, ensure_ascii=False)
        .encode("utf-8", "surrogatepass"),
    ]
    assert [decode_heartbeat(b) for b in cases] == [None] * len(cases)
