"""Through the command line: `agent enroll/list/revoke`, `monitoring metrics`, and `serve`
over TLS with an agent enrolling and heartbeating over HTTPS."""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.monitoring.conftest import need

TLS_PORT = 19181
CLOUDCTL = [sys.executable, "-c", "from cloudctl.cli.main import main; main()"]


def _cli(db: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLOUDCTL, "--db", db, "--as", "alice", *args], capture_output=True, text=True,
                          timeout=120)


@pytest.fixture
def db(seeded_sqlite) -> str:  # type: ignore[no-untyped-def]
    from cloudctl.audit import Actor
    from cloudctl.power import bootstrap

    with seeded_sqlite.begin() as conn:  # alice administers (agent enroll/revoke are on the power list)
        bootstrap(conn, "alice", Actor("alice", "pytest"))
    return seeded_sqlite.url


def test_enroll_list_revoke(db: str) -> None:
    r = _cli(db, "agent", "enroll", "--division", "110101001", "--role", "gateway", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["token"].startswith("ccenrol." + data["agent_id"]) and data["role"] == "gateway"
    plain = _cli(db, "agent", "enroll", "--division", "110101002", "--role", "access")
    assert plain.returncode == 0 and plain.stdout.strip().startswith("ccenrol.") and "works once" in plain.stderr
    listed = json.loads(_cli(db, "agent", "list", "--format", "json").stdout)
    assert [(a["agent_id"], a["state"]) for a in listed if a["agent_id"] == data["agent_id"]] == [
        (data["agent_id"], "pending")]
    assert _cli(db, "agent", "revoke", data["agent_id"], "--yes").returncode == 0
    again = _cli(db, "agent", "revoke", data["agent_id"], "--yes")
    assert again.returncode == 1 and "already revoked" in again.stderr
    log = json.loads(_cli(db, "audit", "log", "--format", "json", "--object-type", "agent").stdout)
    assert [e["action"] for e in log] == ["revoke", "enrol", "enrol"] and log[0]["actor"] == "alice"


def test_enroll_bad_input_exits_2_and_names_the_field(db: str) -> None:
    r = _cli(db, "agent", "enroll", "--division", "999999999", "--role", "access")
    assert r.returncode == 2 and "--division" in r.stderr and "Traceback" not in r.stderr
    r = _cli(db, "agent", "enroll", "--division", "110101001", "--role", "router")
    assert r.returncode == 2
    r = _cli(db, "agent", "enroll", "--division", "110101001", "--role", "access", "--ttl", "soon")
    assert r.returncode == 2 and "duration" in r.stderr


def test_monitoring_metrics_passes_promtool(db: str) -> None:
    r = _cli(db, "monitoring", "metrics")
    assert r.returncode == 0 and "cloudctl_coverage_ratio{" in r.stdout
    check = subprocess.run([need("promtool"), "check", "metrics"], input=r.stdout, capture_output=True, text=True,
                           timeout=60)
    assert check.returncode == 0 and not check.stderr.strip(), check.stderr


def _self_signed(tmp: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "cloudctl test")])
    now = dt.datetime.now(dt.UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = tmp / "cert.pem", tmp / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


def test_serve_over_tls(db: str, tmp_path: Path) -> None:
    cert, key = _self_signed(tmp_path)
    token = _cli(db, "agent", "enroll", "--division", "110101001", "--role", "access").stdout.strip()
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([*CLOUDCTL, "--db", db, "serve", "--port", str(TLS_PORT), "--tls-cert", str(cert),
                             "--tls-key", str(key), "--log-level", "warning"], stdout=log, stderr=subprocess.STDOUT)
    base = f"https://127.0.0.1:{TLS_PORT}"
    trust = ssl.create_default_context(cafile=str(cert))
    try:
        deadline, healthy = time.monotonic() + 40, False
        while time.monotonic() < deadline and not healthy:
            try:
                healthy = httpx.get(f"{base}/healthz", verify=trust, timeout=2).status_code == 200
            except httpx.HTTPError:
                time.sleep(0.3)
        assert healthy, (tmp_path / "serve.log").read_text()
        with pytest.raises(httpx.HTTPError):  # plain HTTP is not served on the TLS port
            httpx.get(f"http://127.0.0.1:{TLS_PORT}/healthz", timeout=5).raise_for_status()
        with httpx.Client(base_url=base, verify=trust, timeout=10) as c:
            agent = c.post("/v1/agents/enrol", json={"token": token, "metrics_address": "127.0.0.1:9101"}).json()
            auth = {"Authorization": f"Bearer {agent['credential']}"}
            r = c.post(f"/v1/agents/{agent['agent_id']}/heartbeats", headers=auth,
                       json={"seq": 1, "results": [{"name": "a", "kind": "icmp", "target": "10.0.0.1",
                                                     "link_id": "L-ASH", "up": True}]})
            assert r.status_code == 200 and r.json()["links_updated"] == 1
            assert 'cloudctl_link_up{link="L-ASH",division="110101001",province="11"} 1' in c.get("/metrics").text
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_serve_token_issues_a_token_for_the_acting_operator(db: str) -> None:
    r = _cli(db, "serve", "token", "--ttl", "12h", "--format", "json")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["operator"] == "alice" and data["token"].startswith("ccop.opt-")
    log = json.loads(_cli(db, "audit", "log", "--format", "json", "--object-type", "api_token").stdout)
    assert log[0]["actor"] == "alice" and data["token"] not in json.dumps(log)
    assert _cli(db, "serve", "token", "--ttl", "-1h").returncode == 2
    token_id = data["token"].split(".")[1]
    def as_mallory() -> subprocess.CompletedProcess[str]:
        return subprocess.run([*CLOUDCTL, "--db", db, "--as", "mallory", "serve", "token", "--revoke", token_id],
                              capture_output=True, text=True, timeout=120)

    denied = as_mallory()  # not on the power list at all
    assert denied.returncode == 1 and "'mallory' may not serve.token" in denied.stderr
    assert _cli(db, "role", "create", "token-holder", "--allow", "serve.token").returncode == 0
    assert _cli(db, "role", "grant", "token-holder", "mallory").returncode == 0
    other = as_mallory()  # may hold tokens, but not revoke alice's
    assert other.returncode == 1 and "belongs to alice" in other.stderr
    assert _cli(db, "serve", "token", "--revoke", token_id).returncode == 0
    assert _cli(db, "serve", "token", "--revoke", token_id).returncode == 1  # already revoked


@pytest.mark.parametrize(("variable", "value"), [
    ("CLOUDCTL_INGEST_WINDOW_MS", "abc"), ("CLOUDCTL_GC_THRESHOLD", "700,10"),
    ("CLOUDCTL_INGEST_IN_FLIGHT", "0"), ("CLOUDCTL_SWITCH_INTERVAL", "5")])
def test_serve_refuses_a_bad_tuning_variable_before_it_starts(db: str, variable: str, value: str) -> None:
    import os
    import socket

    with socket.socket() as s:  # a free port, should the refusal fail to come before the server starts
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    r = subprocess.run([*CLOUDCTL, "--db", db, "serve", "--port", str(port)], capture_output=True, text=True,
                       timeout=60, env={**os.environ, variable: value})
    assert r.returncode == 2, r.stderr
    assert variable in r.stderr and "Traceback" not in r.stderr and "cloudctl API on" not in r.stderr


def test_tuning_variables_reach_every_worker_as_settings() -> None:
    from cloudctl.api.app import ApiSettings
    from cloudctl.api.worker import ENV, from_handover, worker_environment
    from cloudctl.config import server_tuning

    tuning = server_tuning({"CLOUDCTL_GC_THRESHOLD": "700,10,10", "CLOUDCTL_INGEST_WINDOW_MS": "0",
                            "CLOUDCTL_INGEST_IN_FLIGHT": "2", "CLOUDCTL_SWITCH_INTERVAL": ""})
    assert tuning == {"gc_threshold": (700, 10, 10), "ingest_window_ms": 0.0, "ingest_in_flight": 2}
    settings = ApiSettings(**tuning)  # type: ignore[arg-type]
    handed = json.loads(worker_environment("sqlite://", settings)[ENV])["settings"]
    assert handed["gc_threshold"] == [700, 10, 10] and handed["ingest_in_flight"] == 2
    assert from_handover(worker_environment("sqlite://", settings)[ENV]) == ("sqlite://", settings)
