"""The checkpoint signing key and where things live (flag > CLOUDCTL_* variable > default).

The private key is an Ed25519 key in a PEM (PKCS #8) file kept outside the store, readable by its
owner only: like ssh with an unprotected private key, a key file that group or others may read is
refused. The public key (`KEY.pub`, PEM SubjectPublicKeyInfo) is all a verifier needs.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import (
    Encoding,
    NoEncryption,
    PrivateFormat,
    PublicFormat,
    load_pem_private_key,
    load_pem_public_key,
)

from cloudctl.config import default_data_dir
from cloudctl.errors import InputError

KEY_ENV = "CLOUDCTL_AUDIT_KEY"
PUBLIC_KEY_ENV = "CLOUDCTL_AUDIT_PUBLIC_KEY"  # one path, or several separated by os.pathsep
CHECKPOINT_FILE_ENV = "CLOUDCTL_AUDIT_CHECKPOINT_FILE"
MAX_KEY_FILE = 16 * 1024


def default_config_dir() -> Path:
    from platformdirs import user_config_dir

    return Path(user_config_dir("cloudctl", appauthor=False))


def _env(environ: Mapping[str, str] | None) -> Mapping[str, str]:
    from cloudctl.config import environment

    return environment() if environ is None else environ


def key_path(flag: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The signing key: --key, else CLOUDCTL_AUDIT_KEY, else audit-signing.key in the user config dir."""
    value = flag or _env(environ).get(KEY_ENV)
    return Path(value).expanduser() if value else default_config_dir() / "audit-signing.key"


def public_key_paths(flags: Sequence[str], environ: Mapping[str, str] | None = None) -> list[Path]:
    """The verifier's public keys: --public-key (repeatable), else CLOUDCTL_AUDIT_PUBLIC_KEY, else
    audit-signing.key.pub in the user config dir when it exists (written there by keygen)."""
    if flags:
        return [Path(f).expanduser() for f in flags]
    value = _env(environ).get(PUBLIC_KEY_ENV)
    if value:
        return [Path(p).expanduser() for p in value.split(os.pathsep) if p]
    default = public_path(key_path(None, {}))
    return [default] if default.exists() else []


def checkpoint_file_path(flag: str | None, environ: Mapping[str, str] | None = None) -> Path:
    """The append-only checkpoint file: --checkpoint-file, else CLOUDCTL_AUDIT_CHECKPOINT_FILE, else
    audit-checkpoints.jsonl in the user data dir (point it at a share on another host; docs/audit.md)."""
    value = flag or _env(environ).get(CHECKPOINT_FILE_ENV)
    return Path(value).expanduser() if value else default_data_dir() / "audit-checkpoints.jsonl"


def public_path(private: Path) -> Path:
    return private.with_name(private.name + ".pub")


def generate_key(path: Path) -> tuple[Path, Ed25519PublicKey]:
    """Write a new private key (mode 0600, never over an existing file) and PATH.pub; return the
    public key's path and the key."""
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption())
    pub = key.public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise InputError("a key file already exists here; refusing to overwrite it", file=str(path),
                         hint="choose another path with --key (a replaced key cannot verify old checkpoints "
                              "unless its public key is kept)") from None
    except OSError as e:
        raise InputError(f"cannot create the key file: {e.strerror}", file=str(path)) from e
    try:
        os.fchmod(fd, 0o600)  # whatever the umask said
        os.write(fd, pem)
        os.fsync(fd)
    finally:
        os.close(fd)
    public = public_path(path)
    public.write_bytes(pub)
    return public, key.public_key()


def _read_protected(path: Path) -> bytes:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise InputError("no signing key here", file=str(path),
                         hint=f"create one with `cloudctl audit keygen`, or name it with --key or {KEY_ENV}") from None
    except OSError as e:
        raise InputError(f"cannot read the signing key: {e.strerror}", file=str(path)) from e
    try:
        st = os.fstat(fd)  # the file we opened, not whatever the path names a moment later
        if not stat.S_ISREG(st.st_mode):
            raise InputError("the signing key is not a regular file", file=str(path))
        if st.st_mode & 0o077:
            raise InputError(f"permissions {stat.S_IMODE(st.st_mode):04o} are too open: the signing key must not be "
                             "accessible by group or others", file=str(path), hint=f"chmod 600 {path}")
        if st.st_size > MAX_KEY_FILE:
            raise InputError("not a key file (too large)", file=str(path))
        return os.read(fd, MAX_KEY_FILE)
    finally:
        os.close(fd)


def load_private_key(path: Path) -> Ed25519PrivateKey:
    data = _read_protected(path)
    try:
        key = load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as e:
        raise InputError("not an unencrypted PEM private key", file=str(path),
                         hint="create one with `cloudctl audit keygen`") from e
    if not isinstance(key, Ed25519PrivateKey):
        raise InputError("not an Ed25519 key", file=str(path), hint="create one with `cloudctl audit keygen`")
    return key


def load_public_key(path: Path) -> Ed25519PublicKey:
    try:
        data = path.read_bytes()[:MAX_KEY_FILE]
    except FileNotFoundError:
        raise InputError("no public key here", file=str(path),
                         hint=f"name the signer's public key with --public-key or {PUBLIC_KEY_ENV}") from None
    except OSError as e:
        raise InputError(f"cannot read the public key: {e.strerror}", file=str(path)) from e
    try:
        key = load_pem_public_key(data)
    except (ValueError, TypeError) as e:
        raise InputError("not a PEM public key", file=str(path),
                         hint="use the KEY.pub file `cloudctl audit keygen` wrote") from e
    if not isinstance(key, Ed25519PublicKey):
        raise InputError("not an Ed25519 public key", file=str(path))
    return key


def public_pem(key: Ed25519PublicKey) -> str:
    return key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo).decode("ascii")
