"""Output paths are checked before any work starts."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

from cloudctl.errors import InputError
from cloudctl.inputs.paths import check_output_dir, check_output_file

ROOT = Path(__file__).resolve().parents[2]


def _error(fn, *args, **kwargs) -> InputError:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as e:
        fn(*args, **kwargs)
    return e.value


def test_output_file(tmp_path: Path) -> None:
    assert check_output_file(tmp_path / "new.nft") == tmp_path / "new.nft"
    (tmp_path / "old.nft").write_text("x")
    assert check_output_file(tmp_path / "old.nft") == tmp_path / "old.nft"
    assert "does not exist" in _error(check_output_file, tmp_path / "missing" / "x.nft").message
    assert "is a directory" in _error(check_output_file, tmp_path).message
    assert "not a regular file" in _error(check_output_file, "/dev/null").message
    assert "old.nft is a file, not a directory" in _error(check_output_file, tmp_path / "old.nft" / "x").message
    error = _error(check_output_file, tmp_path / "missing" / "x.nft", field="-o")
    assert error.field == "-o" and error.file == str(tmp_path / "missing" / "x.nft") and "mkdir -p" in error.hint


def test_output_dir(tmp_path: Path) -> None:
    assert check_output_dir(tmp_path) == tmp_path
    assert check_output_dir(tmp_path / "new") == tmp_path / "new"
    assert "does not exist" in _error(check_output_dir, tmp_path / "a" / "b").message
    assert check_output_dir(tmp_path / "a" / "b", create_parents=True) == tmp_path / "a" / "b"
    (tmp_path / "file").write_text("x")
    assert "not a directory" in _error(check_output_dir, tmp_path / "file").message
    assert "not a directory" in _error(check_output_dir, tmp_path / "file" / "sub" / "x",
                                       create_parents=True).message.lower()
    assert not (tmp_path / "new").exists() and not (tmp_path / "a").exists(), "checking creates nothing"


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("setpriv") is None, reason="needs root to drop to nobody")
def test_a_directory_without_write_permission_is_refused() -> None:
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    if subprocess.run([*nobody, "import cloudctl.inputs.paths"], env=env, cwd="/", capture_output=True,
                      timeout=60).returncode != 0:
        pytest.skip("user nobody cannot read this checkout")
    root_only = Path(tempfile.mkdtemp(prefix="ccin-ro-", dir="/tmp"))  # 0700 by root: nobody may not even look
    root_only.chmod(0o755)
    code = ("import sys; from cloudctl.inputs.paths import check_output_file; from cloudctl.errors import InputError\n"
            "try:\n check_output_file(sys.argv[1])\nexcept InputError as e:\n print(e.message); sys.exit(2)")
    r = subprocess.run([*nobody, code, str(root_only / "x.nft")], capture_output=True, text=True, timeout=60,
                       env=env, cwd="/")
    root_only.rmdir()
    assert r.returncode == 2 and "cannot write in" in r.stdout and "permission denied" in r.stdout, (r.stdout,
                                                                                                     r.stderr)


def test_compile_checks_the_output_before_reading_the_policy(tmp_path: Path) -> None:
    """The policy does not exist either: the output path is what the user hears about first."""
    r = subprocess.run([sys.executable, "-m", "cloudctl", "gateway", "compile", str(tmp_path / "nope.yaml"),
                        "-o", str(tmp_path / "missing" / "out.nft")], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2 and "field '--output'" in r.stderr and "does not exist" in r.stderr, r.stderr
    assert "Traceback" not in r.stderr and "unexpected" not in r.stderr
