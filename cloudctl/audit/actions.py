"""The audit log's action: sign a checkpoint of the chain head (`cloudctl audit checkpoint`, audit.checkpoint)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr, model_validator

from cloudctl.action import Action, Context, Inputs


class Checkpoint(Inputs):
    key_flag: str | None = Field(None, max_length=4096, description="the signing key file")
    file_flag: str | None = Field(None, max_length=4096, description="the append-only checkpoint file")
    public_flags: list[str] = Field(default_factory=list, max_length=100)
    _key: Any = PrivateAttr(default=None)
    _trusted: list[Any] = PrivateAttr(default_factory=list)

    @model_validator(mode="after")
    def _load_keys(self) -> Checkpoint:
        """A missing, unreadable or too widely readable key file is bad input, refused before anyone is asked."""
        from cloudctl.audit import keys

        self._key = keys.load_private_key(keys.key_path(self.key_flag))
        self._trusted = [keys.load_public_key(p) for p in self.public_flags]
        return self


def _checkpoint(ctx: Context, inputs: Checkpoint) -> Any:
    from cloudctl.audit import keys
    from cloudctl.audit.signer import make_checkpoint

    return make_checkpoint(ctx.store, inputs._key, keys.checkpoint_file_path(inputs.file_flag),
                           trusted_keys=inputs._trusted)


CHECKPOINT = Action("audit.checkpoint", Checkpoint, _checkpoint)
