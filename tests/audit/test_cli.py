"""`cloudctl audit keygen|checkpoint|verify` as a user and cron run them: the key file's
permissions, where paths come from, the power list, cron re-runs and concurrent runs, a verifier
that holds only the public key."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from sqlalchemy import func, select

from cloudctl.audit import Actor
from cloudctl.audit.keys import KEY_ENV, PUBLIC_KEY_ENV, checkpoint_file_path, key_path, public_key_paths
from cloudctl.power import bootstrap
from cloudctl.store import open_store
from cloudctl.store.tables.core import audit_checkpoint, audit_log
from tests.audit.conftest import Signer, write
from tests.audit.tamper import rewrite_row


def cli(db: str, *args: str, env: dict[str, str] | None = None,
        who: str = "cron-op") -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "CLOUDCTL_AS": who, **(env or {})}
    return subprocess.run([sys.executable, "-m", "cloudctl", "--db", db, *args], capture_output=True, text=True,
                          timeout=120, env=full)


def _env(signer: Signer) -> dict[str, str]:
    return {KEY_ENV: str(signer.key_path), "CLOUDCTL_AUDIT_CHECKPOINT_FILE": str(signer.file)}


def _admin(db: str, who: str = "cron-op") -> None:
    store = open_store(db)
    with store.begin() as conn:
        bootstrap(conn, who, Actor(who))
    store.dispose()


def test_keygen_writes_an_owner_only_key_and_never_overwrites(tmp_path: Path, sqlite_url: str) -> None:
    key = tmp_path / "k" / "signing.key"
    made = cli(sqlite_url, "audit", "keygen", "--key", str(key))
    assert made.returncode == 0, made.stderr
    assert oct(key.stat().st_mode & 0o777) == "0o600" and oct(key.parent.stat().st_mode & 0o777) == "0o700"
    assert Path(str(key) + ".pub").read_text().startswith("-----BEGIN PUBLIC KEY-----")
    before = key.read_bytes()
    again = cli(sqlite_url, "audit", "keygen", "--key", str(key))
    assert again.returncode == 2 and "refusing to overwrite" in again.stderr and key.read_bytes() == before
    printed = cli(sqlite_url, "audit", "public-key", "--key", str(key))
    assert printed.stdout == Path(str(key) + ".pub").read_text()


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644, 0o601])
def test_a_key_file_readable_by_others_is_refused(mode: int, signer: Signer, sqlite_url: str) -> None:
    _admin(sqlite_url)
    write_store = open_store(sqlite_url)
    write(write_store, 2)
    write_store.dispose()
    signer.key_path.chmod(mode)
    r = cli(sqlite_url, "audit", "checkpoint", env=_env(signer))
    assert r.returncode == 2, r.stderr
    assert f"permissions 0{mode:o} are too open" in r.stderr and f"chmod 600 {signer.key_path}" in r.stderr
    assert "Traceback" not in r.stderr and not signer.file.exists()
    signer.key_path.chmod(0o600)
    assert cli(sqlite_url, "audit", "checkpoint", env=_env(signer)).returncode == 0


def test_a_missing_key_says_how_to_make_one(tmp_path: Path, sqlite_url: str) -> None:
    _admin(sqlite_url)
    r = cli(sqlite_url, "audit", "checkpoint", "--key", str(tmp_path / "absent.key"))
    assert r.returncode == 2 and "no signing key here" in r.stderr and "cloudctl audit keygen" in r.stderr


def test_paths_come_from_the_flag_then_the_environment_then_the_user_dirs(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "cfg"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    assert key_path(None, {}) == tmp_path / "cfg" / "cloudctl" / "audit-signing.key"
    assert key_path(None, {KEY_ENV: "/etc/cloudctl/k"}) == Path("/etc/cloudctl/k")
    assert key_path("/flag/k", {KEY_ENV: "/etc/cloudctl/k"}) == Path("/flag/k")
    assert checkpoint_file_path(None, {}) == tmp_path / "data" / "cloudctl" / "audit-checkpoints.jsonl"
    assert checkpoint_file_path(None, {"CLOUDCTL_AUDIT_CHECKPOINT_FILE": "/mnt/a"}) == Path("/mnt/a")
    assert public_key_paths([], {}) == []  # no key generated in the default place yet
    assert public_key_paths([], {PUBLIC_KEY_ENV: f"/a.pub{os.pathsep}/b.pub"}) == [Path("/a.pub"), Path("/b.pub")]
    assert public_key_paths(["/c.pub"], {PUBLIC_KEY_ENV: "/a.pub"}) == [Path("/c.pub")]


def test_checkpoint_is_on_the_power_list(signer: Signer, sqlite_url: str) -> None:
    _admin(sqlite_url, "root-op")
    denied = cli(sqlite_url, "audit", "checkpoint", env=_env(signer), who="intern")
    assert denied.returncode == 1 and "'intern' may not audit.checkpoint" in denied.stderr
    store = open_store(sqlite_url)
    with store.connect() as conn:
        last = conn.execute(select(audit_log.c.action, audit_log.c.actor).order_by(audit_log.c.seq.desc())).first()
        assert tuple(last) == ("power.deny", "intern")
        assert conn.execute(select(func.count()).select_from(audit_checkpoint)).scalar_one() == 0
    store.dispose()
    assert not signer.file.exists()


def test_cron_reruns_succeed_and_a_public_key_alone_verifies(signer: Signer, sqlite_url: str, tmp_path: Path) -> None:
    _admin(sqlite_url)
    for _ in range(2):  # each run's own audited decision is the new head it signs
        r = cli(sqlite_url, "audit", "checkpoint", "--format", "json", env=_env(signer))
        assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["checkpoint"]["number"] == 2
    verifier = {"HOME": str(tmp_path / "verifier"), "XDG_CONFIG_HOME": str(tmp_path / "verifier"),
                PUBLIC_KEY_ENV: str(signer.public_path)}  # no private key anywhere in reach
    args = ("audit", "verify", "--checkpoint-file", str(signer.file), "--checkpoints", "file")
    ok = cli(sqlite_url, *args, env=verifier)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "against 2 signed checkpoint(s)" in ok.stdout
    store = open_store(sqlite_url)
    with store.begin() as conn:
        rewrite_row(conn, 1, actor="mallory")
    store.dispose()
    broken = cli(sqlite_url, *args, "--format", "json", env=verifier)
    assert broken.returncode == 1
    report = json.loads(broken.stdout)
    assert (report["ok"], report["checkpoint"], report["first_bad_seq"]) == (False, 1, 2)
    text = cli(sqlite_url, *args, env=verifier)
    assert text.returncode == 1 and text.stdout.startswith("audit chain BROKEN at row 2: checkpoint 1 (signed")


def test_verify_against_the_file_needs_a_public_key(signer: Signer, sqlite_url: str, tmp_path: Path) -> None:
    signer.file.parent.mkdir(parents=True)
    signer.file.write_text("")
    env = {"XDG_CONFIG_HOME": str(tmp_path / "empty")}
    r = cli(sqlite_url, "audit", "verify", "--checkpoint-file", str(signer.file), "--checkpoints", "file", env=env)
    assert r.returncode == 2 and "--public-key" in r.stderr


@pytest.mark.parametrize("db", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_concurrent_checkpoints_never_fork(db: str, signer: Signer, request: pytest.FixtureRequest) -> None:
    """Six signers (each its own engine, connections and file descriptor) append and sign at once."""
    url = request.getfixturevalue("sqlite_url" if db == "sqlite" else "pg_url")
    open_store(url).dispose()
    start = threading.Barrier(6)

    def sign_three_times() -> list[bool]:
        store = open_store(url, migrate=False)
        try:
            start.wait(timeout=60)
            created = []
            for _ in range(3):
                write(store, 1)
                created.append(signer.checkpoint(store).created)
            return created
        finally:
            store.dispose()

    with ThreadPoolExecutor(6) as pool:
        runs = [f.result(timeout=120) for f in [pool.submit(sign_three_times) for _ in range(6)]]
    store = open_store(url)
    with store.connect() as conn:
        numbers = [r.number for r in conn.execute(select(audit_checkpoint.c.number).order_by("number"))]
    lines = [json.loads(x) for x in signer.file.read_text().splitlines()]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == sum(map(sum, runs)) >= 2
    assert [x["number"] for x in lines] == numbers
    report = signer.verify(store)
    assert report.ok and report.chain.checkpoints_checked == len(numbers) and report.chain.rows_checked == 18
    store.dispose()


def test_a_key_file_that_is_not_an_ed25519_key_is_refused(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1, generate_private_key
    from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

    from cloudctl.audit.keys import load_private_key
    from cloudctl.errors import InputError

    garbage, ecdsa = tmp_path / "garbage.key", tmp_path / "ecdsa.key"
    garbage.write_text("not a key\n")
    ecdsa.write_bytes(generate_private_key(SECP256R1()).private_bytes(Encoding.PEM, PrivateFormat.PKCS8,
                                                                      NoEncryption()))
    for path, why in ((garbage, "not an unencrypted PEM private key"), (ecdsa, "not an Ed25519 key")):
        path.chmod(0o600)
        with pytest.raises(InputError, match=why) as e:
            load_private_key(path)
        assert e.value.exit_code == 2 and e.value.file == str(path)
