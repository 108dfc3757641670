"""REST API for opting out (退订):

    /api/v1/customers/{id}/opt-out    POST opt the customer out, DELETE opt them back in
                                      (view_pii at the customer's unit; audited)
    /api/v1/channels/sms/replies      POST a customer's SMS answer from the provider (?key=);
                                      T / TD / 退订 / STOP opts the sender out
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from tiyan.errors import InvalidInput
from tiyan.services import opt_out
from tiyan.web.api.invitations import SmsCallbackFields
from tiyan.web.api.schemas import ErrorBody
from tiyan.web.deps import ApiActor, ContextDep

ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody} for code in (401, 403, 404, 422)}
router = APIRouter(prefix="/api/v1", responses=ERRORS)


class OptOutIn(BaseModel):
    model_config = {"extra": "forbid"}
    note: str | None = Field(default=None, max_length=500,
                             description="Why (kept in the audit log), e.g. 'asked by phone'.")


class OptOutOut(BaseModel):
    customer_id: str
    opted_out: bool
    opted_out_at: dt.datetime | None
    changed: bool = Field(description="false when the customer already was in that state")


def _out(status: opt_out.OptOutStatus) -> OptOutOut:
    return OptOutOut(customer_id=status.customer_id, opted_out=status.opted_out,
                     opted_out_at=status.opted_out_at, changed=status.changed)


@router.post("/customers/{customer_id}/opt-out", response_model=OptOutOut, tags=["customers"])
def post_opt_out(customer_id: str, ctx: ContextDep, actor: ApiActor,
                 body: OptOutIn | None = None) -> OptOutOut:
    """Opt the customer out of every invitation (e-mail, SMS, calls); queued invitations are
    suppressed at once. Idempotent."""
    note = body.note if body else None
    return _out(opt_out.do_set_opt_out(ctx, actor, customer_id[:64], True, note=note))


@router.delete("/customers/{customer_id}/opt-out", response_model=OptOutOut,
               tags=["customers"])
def delete_opt_out(customer_id: str, ctx: ContextDep, actor: ApiActor,
                   note: Annotated[str | None, Query(max_length=500)] = None) -> OptOutOut:
    """Opt the customer back in (they asked to be invited again). Idempotent."""
    return _out(opt_out.do_set_opt_out(ctx, actor, customer_id[:64], False, note=note))


class SmsReplyOut(BaseModel):
    result: str = Field(description="opted_out, already, unknown_number or ignored")


@router.post("/channels/sms/replies", response_model=SmsReplyOut, tags=["channels"],
             openapi_extra={"security": []})
def sms_reply(ctx: ContextDep, fields: SmsCallbackFields) -> SmsReplyOut:
    """A customer's answer to an SMS, forwarded by the provider as a form or JSON and
    authenticated by `?key=` (TIYAN_SMS_CALLBACK_KEY). Fields: TIYAN_SMS_REPLY_FROM_FIELD and
    TIYAN_SMS_REPLY_TEXT_FIELD. A stop word (T, TD, 退订, STOP, UNSUBSCRIBE …) opts the
    customer with that mobile number out; anything else is ignored."""
    from_field, text_field = ctx.settings.sms_reply_from_field, ctx.settings.sms_reply_text_field
    sender, text = fields.get(from_field), fields.get(text_field)
    if not isinstance(sender, str) or not 1 <= len(sender) <= 32:
        raise InvalidInput("opt_out.reply_needs_field_characters", from_field=from_field,
                           where=from_field)
    if not isinstance(text, str) or len(text) > 1600:
        raise InvalidInput("opt_out.reply_needs_field_most", text_field=text_field,
                           where=text_field)
    return SmsReplyOut(result=opt_out.do_sms_reply(ctx, sender, text))
