"""The settings action: `cloudctl settings set KEY VALUE` (settings.set on the power list)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator
from sqlalchemy import insert, select, update

from cloudctl import clock as clock_module
from cloudctl.action import Action, Context, Inputs
from cloudctl.audit import record_change
from cloudctl.errors import InputError
from cloudctl.fields import ShortName
from cloudctl.settings import PREFIX, availability_window
from cloudctl.store.tables.core import meta


class SetSetting(Inputs):
    key: Literal["timezone", "availability_window"]
    value: ShortName

    @model_validator(mode="after")
    def _known_value(self) -> SetSetting:
        try:
            if self.key == "timezone":
                clock_module.zone_named(self.value, "value")
            elif self.key == "availability_window":
                availability_window(self.value)
        except InputError as e:
            raise ValueError(f"{e.message}; {e.hint}") from None
        return self


def _set(ctx: Context, inputs: SetSetting) -> dict[str, Any]:
    key = PREFIX + inputs.key
    with ctx.store.begin() as conn:
        before = conn.execute(select(meta.c.value).where(meta.c.key == key)).scalar()
        if before == inputs.value:
            return {"key": inputs.key, "value": inputs.value, "changed": False}
        if before is None:
            conn.execute(insert(meta).values(key=key, value=inputs.value))
        else:
            conn.execute(update(meta).where(meta.c.key == key).values(value=inputs.value))
        record_change(conn, ctx.actor, "settings.set", "setting", inputs.key,
                      {"value": before} if before is not None else None, {"value": inputs.value})
    return {"key": inputs.key, "value": inputs.value, "changed": True}


SET_SETTING = Action("settings.set", SetSetting, _set)
