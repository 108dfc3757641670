"""The schema of the whole product, as SQLAlchemy Core tables (see docs/data-model.md).

Identity and org: org_unit (a tree of any depth), staff, app_user, role_grant, api_token,
web_session, audit_log. Listening: journey, touchpoint, survey, survey_version, invitation,
response (one per submission or imported feedback record) and answer (tidy long table);
survey_session (answers saved page by page until submission), invitation_event/_rule,
inbound_event, call_attempt, touchpoint_listener, import_batch, webhook_endpoint/_delivery.
Customers: customer, customer_identity, customer_transaction. Later capabilities attach here
without reshaping the core: text_analysis/text_aspect, kpi_target, competitor_benchmark,
alert_rule, cx_case/case_event, action_plan, churn_score, and the job queue. Closed loop
(0003): case_timer, business_calendar, notification(_preference), callback_task/_call, action_task.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from tiyan.store.types import Json, Money, NullableJson, UtcDateTime

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)


def _id() -> sa.Column[int]:
    return sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True)


def _fk(name: str, target: str, *, nullable: bool = True, index: bool = False,
        ondelete: str | None = None) -> sa.Column[int]:
    return sa.Column(
        name, sa.BigInteger().with_variant(sa.Integer, "sqlite"),
        sa.ForeignKey(target, ondelete=ondelete), nullable=nullable, index=index,
    )


def _created() -> sa.Column[object]:
    return sa.Column("created_at", UtcDateTime, nullable=False)


# --- organisation, people, access -------------------------------------------------------

org_unit = sa.Table(
    "org_unit", metadata, _id(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name_zh", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("kind", sa.String(32), nullable=False),
    _fk("parent_id", "org_unit.id", index=True),
    sa.Column("timezone", sa.String(64), nullable=False, server_default="Asia/Shanghai"),
    sa.Column("attributes", Json, nullable=False, default=dict),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
)

app_user = sa.Table(
    "app_user", metadata, _id(),
    sa.Column("email", sa.String(320), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("password_hash", sa.String(255), nullable=False),
    sa.Column("locale", sa.String(16), nullable=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
    sa.Column("last_login_at", UtcDateTime, nullable=True),
)

staff = sa.Table(
    "staff", metadata, _id(),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("title", sa.String(100), nullable=True),
    sa.Column("email", sa.String(320), nullable=True),
    _fk("user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
    sa.UniqueConstraint("user_id"),
)

role_grant = sa.Table(
    "role_grant", metadata, _id(),
    _fk("user_id", "app_user.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("role", sa.String(32), nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    _created(),
    sa.UniqueConstraint("user_id", "role", "unit_id"),
)

api_token = sa.Table(
    "api_token", metadata, _id(),
    _fk("user_id", "app_user.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("token_hash", sa.String(64), nullable=False, unique=True),
    _created(),
    sa.Column("last_used_at", UtcDateTime, nullable=True),
    sa.Column("revoked_at", UtcDateTime, nullable=True),
    sa.Column("scope", sa.String(16), nullable=False),  # read, write or admin (0018)
    sa.Column("expires_at", UtcDateTime, nullable=True),  # none: never, chosen explicitly (0018)
)

web_session = sa.Table(
    "web_session", metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    _fk("user_id", "app_user.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("csrf_token", sa.String(64), nullable=False),
    _created(),
    sa.Column("expires_at", UtcDateTime, nullable=False),
)

# One row per failed sign-in, shared by every process: the limiter counts them per account and
# per client address over a window and deletes the older ones (0018).
signin_failure = sa.Table(
    "signin_failure", metadata, _id(),
    sa.Column("at", UtcDateTime, nullable=False, index=True),
    sa.Column("account", sa.String(320), nullable=False),
    sa.Column("address", sa.String(64), nullable=False),
    sa.Index("ix_signin_failure_account_at", "account", "at"),
    sa.Index("ix_signin_failure_address_at", "address", "at"),
)

audit_log = sa.Table(
    "audit_log", metadata, _id(),
    sa.Column("at", UtcDateTime, nullable=False, index=True),
    _fk("user_id", "app_user.id", index=True, ondelete="SET NULL"),
    sa.Column("action", sa.String(64), nullable=False),
    sa.Column("entity", sa.String(64), nullable=False),
    sa.Column("entity_id", sa.String(64), nullable=True),
    _fk("unit_id", "org_unit.id"),
    sa.Column("detail", Json, nullable=False, default=dict),
    sa.Column("ip", sa.String(64), nullable=True),
)

# --- customers ----------------------------------------------------------------------------

customer = sa.Table(
    "customer", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    sa.Column("external_id", sa.String(128), nullable=True, unique=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("segment", sa.String(64), nullable=True, index=True),
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column("attributes", Json, nullable=False, default=dict),
    sa.Column("consent_email", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("consent_sms", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("opted_out_at", UtcDateTime, nullable=True),
    sa.Column("erased_at", UtcDateTime, nullable=True),
    _created(),
)

customer_identity = sa.Table(
    "customer_identity", metadata, _id(),
    _fk("customer_id", "customer.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("value", sa.String(320), nullable=False),
    sa.UniqueConstraint("kind", "value"),
)

customer_transaction = sa.Table(
    "customer_transaction", metadata, _id(),
    _fk("customer_id", "customer.id", nullable=False, ondelete="CASCADE"),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("external_id", sa.String(128), nullable=True),
    sa.Column("amount", Money, nullable=False),
    sa.Column("currency", sa.String(3), nullable=False, server_default="CNY"),
    sa.Column("occurred_at", UtcDateTime, nullable=False, index=True),
    sa.Column("attributes", Json, nullable=False, default=dict),
    # unique per unit (0021: it was per kind across the organisation, so one dealer's order
    # number dropped another dealer's transaction as already imported)
    sa.UniqueConstraint("kind", "external_id", "unit_id"),
    sa.Index("ix_customer_transaction_unit_occurred", "unit_id", "occurred_at"),  # (0010)
    sa.Index("ix_customer_transaction_customer_occurred", "customer_id", "occurred_at"),  # (0012)
)

# --- journeys and surveys -----------------------------------------------------------------

journey = sa.Table(
    "journey", metadata, _id(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name_zh", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=True),
    _created(),
)

touchpoint = sa.Table(
    "touchpoint", metadata, _id(),
    _fk("journey_id", "journey.id", nullable=False, index=True, ondelete="CASCADE"),
    _fk("parent_id", "touchpoint.id", index=True),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("name_zh", sa.String(200), nullable=False),
    sa.Column("name_en", sa.String(200), nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.UniqueConstraint("journey_id", "code"),
)

survey = sa.Table(
    "survey", metadata, _id(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    _fk("touchpoint_id", "touchpoint.id", index=True),
    sa.Column("status", sa.String(16), nullable=False, server_default="draft"),
    sa.Column("current_version", sa.Integer, nullable=True),
    _created(),
)

survey_version = sa.Table(
    "survey_version", metadata, _id(),
    _fk("survey_id", "survey.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("definition", Json, nullable=False),
    _fk("created_by", "app_user.id", ondelete="SET NULL"),
    _created(),
    sa.Column("published_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("survey_id", "version"),
)

invitation = sa.Table(
    "invitation", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    _fk("survey_id", "survey.id", nullable=False, index=True),
    _fk("customer_id", "customer.id", index=True),
    _fk("unit_id", "org_unit.id", nullable=False),
    _fk("staff_id", "staff.id"),
    _fk("touchpoint_id", "touchpoint.id"),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("data", Json, nullable=False, default=dict),
    _created(),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Column("opened_at", UtcDateTime, nullable=True),
    sa.Column("completed_at", UtcDateTime, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("contact", sa.String(320), nullable=True),
    _fk("rule_id", "invitation_rule.id", ondelete="SET NULL"),
    sa.Column("send_at", UtcDateTime, nullable=True),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("bounced_at", UtcDateTime, nullable=True),
    sa.Column("reminders_sent", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_reminder_at", UtcDateTime, nullable=True, index=True),
    sa.Column("next_call_at", UtcDateTime, nullable=True),
    sa.Index("ix_invitation_customer_created", "customer_id", "created_at"),
    sa.Index("ix_invitation_channel_status", "channel", "status"),
    # the response rate: sent in a range and completed, per unit, with the columns its filters
    # and a frontline user's scope read, from the index alone (0015, widened in 0017)
    sa.Index("ix_invitation_response_rate", "unit_id", "sent_at", "completed_at", "channel",
             "touchpoint_id", "staff_id", "customer_id"),
)

invitation_event = sa.Table(
    "invitation_event", metadata, _id(),
    _fk("invitation_id", "invitation.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("detail", Json, nullable=False, default=dict),
)

invitation_rule = sa.Table(
    "invitation_rule", metadata, _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False, index=True),
    _fk("survey_id", "survey.id", nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("delay_minutes", sa.Integer, nullable=False, server_default="0"),
    sa.Column("sampling_percent", sa.Float, nullable=False, server_default="100"),
    sa.Column("quarantine_days", sa.Integer, nullable=True),
    sa.Column("expires_days", sa.Integer, nullable=False, server_default="14"),
    sa.Column("reminder_days", Json, nullable=False, default=list),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
)

inbound_event = sa.Table(
    "inbound_event", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("idempotency_key", sa.String(128), nullable=True, unique=True),
    sa.Column("payload", Json, nullable=False),
    _fk("unit_id", "org_unit.id", index=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("outcome", Json, nullable=False, default=dict),
)

call_attempt = sa.Table(
    "call_attempt", metadata, _id(),
    _fk("invitation_id", "invitation.id", nullable=False, index=True, ondelete="CASCADE"),
    _fk("agent_user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("callback_at", UtcDateTime, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
    _fk("response_id", "response.id", ondelete="SET NULL"),
)

touchpoint_listener = sa.Table(
    "touchpoint_listener", metadata, _id(),
    _fk("touchpoint_id", "touchpoint.id", nullable=False, index=True, ondelete="CASCADE"),
    _fk("survey_id", "survey.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("channels", Json, nullable=False, default=list),
    sa.UniqueConstraint("touchpoint_id", "survey_id"),
)

survey_session = sa.Table(
    "survey_session", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    _fk("survey_id", "survey.id", nullable=False, index=True),
    _fk("survey_version_id", "survey_version.id", nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False),
    _fk("staff_id", "staff.id"),
    _fk("touchpoint_id", "touchpoint.id"),
    _fk("customer_id", "customer.id"),
    _fk("invitation_id", "invitation.id"),
    _fk("agent_user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("language", sa.String(16), nullable=False),
    sa.Column("answers", Json, nullable=False, default=dict),
    sa.Column("page", sa.Integer, nullable=False, server_default="0"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    _fk("response_id", "response.id", ondelete="SET NULL"),
    # One session per invitation, even when two first opens race (0007).
    sa.Index("ix_survey_session_invitation_id", "invitation_id", unique=True),
)

# --- responses and feedback ---------------------------------------------------------------

response = sa.Table(
    "response", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    sa.Column("source", sa.String(16), nullable=False),
    _fk("survey_id", "survey.id"),
    _fk("survey_version_id", "survey_version.id"),
    sa.Column("channel", sa.String(16), nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False),
    _fk("staff_id", "staff.id", index=True),
    _fk("touchpoint_id", "touchpoint.id", index=True),
    _fk("customer_id", "customer.id", index=True),
    _fk("invitation_id", "invitation.id"),
    _fk("agent_user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("language", sa.String(16), nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("started_at", UtcDateTime, nullable=True),
    sa.Column("submitted_at", UtcDateTime, nullable=True),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Column("external_id", sa.String(128), nullable=True),
    sa.Column("idempotency_key", sa.String(128), nullable=True, unique=True),
    sa.Column("customer_snapshot", Json, nullable=False, default=dict),
    sa.Column("meta", Json, nullable=False, default=dict),
    # when personal data (snapshot, imported extra columns) and when comments were removed:
    # erasure of the customer, or retention (0019)
    sa.Column("redacted_at", UtcDateTime, nullable=True),
    sa.Column("comments_removed_at", UtcDateTime, nullable=True),
    # a response through an anonymous link that looked like ballot stuffing (0030): status
    # "flagged" (not counted) with the reasons (device, burst, identical); restored: "complete"
    sa.Column("flag_reasons", sa.String(64), nullable=True),
    sa.Column("flag_changed_at", UtcDateTime, nullable=True),
    # an imported record's external id is unique per source and unit (0020: it was per source,
    # so one dealer's review was dropped as a duplicate of another dealer's)
    sa.UniqueConstraint("source", "external_id", "unit_id"),
    sa.Index("ix_response_unit_submitted", "unit_id", "submitted_at"),
    sa.Index("ix_response_survey_submitted", "survey_id", "submitted_at"),
    sa.Index("ix_response_submitted", "submitted_at"),
    sa.Index("ix_response_staff_submitted", "staff_id", "submitted_at"),  # staff slices (0009)
)

# Ballot-stuffing guard of anonymous links (0030): each link's limits (a link is survey × unit
# × staff × touchpoint, named by `link_key`; no row means the defaults) and one row per response
# through a link, with the device (a random id from a signed cookie) and a keyed hash of the
# client's network (/24, /48) and user agent; never the address itself.
survey_link_policy = sa.Table(
    "survey_link_policy", metadata, _id(),
    sa.Column("link_key", sa.String(64), nullable=False, unique=True),
    _fk("survey_id", "survey.id", nullable=False, index=True, ondelete="CASCADE"),
    _fk("unit_id", "org_unit.id", nullable=False),
    sa.Column("device_limit", sa.Integer, nullable=False),
    sa.Column("device_window_hours", sa.Integer, nullable=False),
    sa.Column("burst_limit", sa.Integer, nullable=False),
    sa.Column("burst_window_minutes", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    _fk("updated_by", "app_user.id", ondelete="SET NULL"),
)

link_submission = sa.Table(
    "link_submission", metadata, _id(),
    sa.Column("link_key", sa.String(64), nullable=False),
    _fk("response_id", "response.id", nullable=False, ondelete="CASCADE"),
    sa.Column("device_id", sa.String(32), nullable=True),
    sa.Column("fingerprint", sa.String(64), nullable=False),
    sa.Column("answers_digest", sa.String(64), nullable=False),
    sa.Column("submitted_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("response_id"),
    sa.Index("ix_link_submission_link_submitted", "link_key", "submitted_at"),
)

answer = sa.Table(
    "answer", metadata,
    _fk("response_id", "response.id", nullable=False, ondelete="CASCADE"),
    sa.Column("question_key", sa.String(130), nullable=False),
    sa.Column("item_code", sa.String(64), nullable=True),
    sa.Column("value_num", sa.Float, nullable=True),
    sa.Column("value_text", sa.Text, nullable=True),
    sa.Column("value_json", NullableJson, nullable=True),
    sa.PrimaryKeyConstraint("response_id", "question_key"),
    sa.Index("ix_answer_item_response", "item_code", "response_id"),
)

import_batch = sa.Table(
    "import_batch", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("filename", sa.String(300), nullable=False),
    sa.Column("file_format", sa.String(8), nullable=False),
    sa.Column("content_sha256", sa.String(64), nullable=False, index=True),
    sa.Column("mapping", Json, nullable=False, default=dict),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("rows_total", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_stored", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_duplicate", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rows_rejected", sa.Integer, nullable=False, server_default="0"),
    sa.Column("rejections", Json, nullable=False, default=list),
    _fk("created_by", "app_user.id", ondelete="SET NULL"),
    _created(),
    sa.Column("finished_at", UtcDateTime, nullable=True),
    _fk("unit_id", "org_unit.id", index=True),       # the unit the import was narrowed to
    sa.Column("bytes_total", sa.BigInteger, nullable=True),
    sa.Column("bytes_read", sa.BigInteger, nullable=False, server_default="0"),
)

# --- outbound webhooks --------------------------------------------------------------------

webhook_endpoint = sa.Table(
    "webhook_endpoint", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    sa.Column("url", sa.String(2000), nullable=False),
    sa.Column("secret", sa.String(128), nullable=False),
    sa.Column("events", Json, nullable=False, default=list),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _fk("created_by", "app_user.id", ondelete="SET NULL"),
    _created(),
)

webhook_delivery = sa.Table(
    "webhook_delivery", metadata, _id(),
    _fk("endpoint_id", "webhook_endpoint.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("message_id", sa.String(40), nullable=False),
    sa.Column("event_type", sa.String(64), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("last_status_code", sa.Integer, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _created(),
    sa.Column("delivered_at", UtcDateTime, nullable=True),
    sa.Index("ix_webhook_delivery_status_next", "status", "next_attempt_at"),
    sa.Index("ux_webhook_delivery_endpoint_message", "endpoint_id", "message_id", unique=True),
)

# --- text enrichments (text analytics) ----------------------------------------------------

text_analysis = sa.Table(
    "text_analysis", metadata, _id(),
    _fk("response_id", "response.id", nullable=False, ondelete="CASCADE"),
    sa.Column("question_key", sa.String(130), nullable=False),
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("sentiment_label", sa.String(16), nullable=False),
    sa.Column("sentiment_score", sa.Float, nullable=False),
    sa.Column("redacted_text", sa.Text, nullable=False),
    sa.Column("keywords", Json, nullable=False, default=list),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("analyzed_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("response_id", "question_key"),
)

text_aspect = sa.Table(
    "text_aspect", metadata, _id(),
    _fk("analysis_id", "text_analysis.id", nullable=False, index=True, ondelete="CASCADE"),
    _fk("response_id", "response.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("aspect_code", sa.String(64), nullable=False, index=True),
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("evidence", sa.Text, nullable=False),
)
# people's corrections of a text's analysis (0024): one per (response, question, aspect), the
# comment's own sentiment under aspect_code ""; `label` NULL on an aspect: not about it
text_correction = sa.Table(
    "text_correction", metadata, _id(),
    _fk("response_id", "response.id", nullable=False, ondelete="CASCADE"),
    sa.Column("question_key", sa.String(130), nullable=False),
    sa.Column("aspect_code", sa.String(64), nullable=False, default=""),
    sa.Column("label", sa.String(16)),
    sa.Column("evidence", sa.Text),
    sa.Column("model_label", sa.String(16)),  # what the analysis said before the correction
    sa.Column("text", sa.Text, nullable=False),  # the redacted text that was corrected
    sa.Column("language", sa.String(8), nullable=False),
    sa.Column("industry", sa.String(32)),
    _fk("user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("corrected_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("response_id", "question_key", "aspect_code"),
)

# adaptations fitted on the corrections (0024); the active one's id is the app setting
# "text.adaptation.active"
text_adaptation = sa.Table(
    "text_adaptation", metadata, _id(),
    sa.Column("created_at", UtcDateTime, nullable=False),
    _fk("created_by", "app_user.id", ondelete="SET NULL"),
    sa.Column("corrections", sa.Integer, nullable=False),
    sa.Column("model", sa.LargeBinary, nullable=False),
    sa.Column("summary", Json, nullable=False, default=dict),
)

# the most negative quotes: read in their order (score, newest first), stopping after the first
# matches (0016)
sa.Index("ix_text_aspect_label_score_id", text_aspect.c.label, text_aspect.c.score,
         text_aspect.c.id.desc())

# --- targets and benchmarks ---------------------------------------------------------------

kpi_target = sa.Table(
    "kpi_target", metadata, _id(),
    sa.Column("kpi", sa.String(64), nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("target", sa.Float, nullable=False),
    sa.UniqueConstraint("kpi", "unit_id", "period_start"),
)

competitor_benchmark = sa.Table(
    "competitor_benchmark", metadata, _id(),
    sa.Column("kpi", sa.String(64), nullable=False),
    sa.Column("competitor", sa.String(200), nullable=False),
    _fk("unit_id", "org_unit.id", index=True),
    sa.Column("period_start", sa.Date, nullable=False),
    sa.Column("period_end", sa.Date, nullable=False),
    sa.Column("value", sa.Float, nullable=False),
    sa.Column("source", sa.String(200), nullable=True),
)

# --- dashboard aggregates (0004, see docs/dashboards.md) -----------------------------------

# The cell every aggregate is kept per: (grain,) bucket x unit x survey x touchpoint x channel.
# 0 stands for "none" in survey_id and touchpoint_id so that the key can be upserted.
CELL = ("bucket", "unit_id", "survey_id", "touchpoint_id", "channel")


def _cell(*, grain: bool) -> list[sa.Column[Any]]:
    columns = [sa.Column("grain", sa.String(1), nullable=False)] if grain else []
    return columns + [
        sa.Column("bucket", sa.Date, nullable=False),
        sa.Column("unit_id", sa.Integer, nullable=False),
        sa.Column("survey_id", sa.Integer, nullable=False),
        sa.Column("touchpoint_id", sa.Integer, nullable=False),
        sa.Column("channel", sa.String(16), nullable=False),
    ]


def _score_sums() -> list[sa.Column[Any]]:
    return [sa.Column("n", sa.BigInteger, nullable=False),
            sa.Column("total", sa.Float, nullable=False),
            sa.Column("total_sq", sa.Float, nullable=False),
            sa.Column("top", sa.BigInteger, nullable=False),
            sa.Column("bottom", sa.BigInteger, nullable=False)]


def _pair_sums() -> list[sa.Column[Any]]:
    return [sa.Column("n", sa.BigInteger, nullable=False),
            *(sa.Column(name, sa.Float, nullable=False)
              for name in ("sum_a", "sum_b", "sum_aa", "sum_bb", "sum_ab")),
            sa.Column("top_a", sa.BigInteger, nullable=False)]


# Scores summed per day ('d') and per month ('m') x unit x survey x touchpoint x channel x item
# (item_code '' counts responses). Kept up to date by the `aggregates.fold` job and
# `tiyan aggregates`.
score_agg = sa.Table(
    "score_agg", metadata,
    *_cell(grain=True),
    sa.Column("item_code", sa.String(64), nullable=False),
    *_score_sums(),
    sa.PrimaryKeyConstraint("grain", *CELL, "item_code"),
    sqlite_with_rowid=False,
)

# Text aggregates (0008): per day and month x unit x survey x touchpoint (the question's own,
# else the response's) x channel x aspect code x sentiment label: n and the sum of scores. Aspect
# code '' counts analysed comments by their document sentiment (n, sum of document scores).
# Folded in the transaction that stores an analysis, unfolded in the one that replaces it.
text_agg = sa.Table(
    "text_agg", metadata,
    *_cell(grain=True),
    sa.Column("aspect_code", sa.String(64), nullable=False),
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("total", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("grain", *CELL, "aspect_code", "label"),
    sqlite_with_rowid=False,
)

# The sums of score_agg once more per customer segment (0009): the segment of the response's
# customer when it was folded, moved when a customer changes segment (store/segment_aggregates).
segment_agg = sa.Table(
    "segment_agg", metadata,
    sa.Column("segment", sa.String(64), nullable=False),
    *_cell(grain=True),
    sa.Column("item_code", sa.String(64), nullable=False),
    *_score_sums(),
    sa.PrimaryKeyConstraint("segment", "grain", *CELL, "item_code"),
    sqlite_with_rowid=False,
)

# The day rows of score_agg added up per unit subtree over survey, touchpoint and channel
# (0013): per local day x unit (that unit and every unit below it) x item code. Folded with
# score_agg (store/unit_day_aggregates); the overview's day and week trends read it.
unit_day_agg = sa.Table(
    "unit_day_agg", metadata,
    sa.Column("unit_id", sa.Integer, nullable=False),
    sa.Column("bucket", sa.Date, nullable=False),
    sa.Column("item_code", sa.String(64), nullable=False),
    *_score_sums(),
    sa.PrimaryKeyConstraint("unit_id", "bucket", "item_code"),
    sqlite_with_rowid=False,
)

# The NPS and CSAT answers of responses that name a staff member (0014): per day and month x
# staff member x unit x touchpoint (the response's) x channel x item code. Top and bottom count
# answers >= 9 and <= 6 (promoters and detractors of an NPS answer). Folded with score_agg
# (store/staff_aggregates); the staff scorecards read it.
staff_agg = sa.Table(
    "staff_agg", metadata,
    sa.Column("grain", sa.String(1), nullable=False),
    sa.Column("bucket", sa.Date, nullable=False),
    sa.Column("staff_id", sa.Integer, nullable=False),
    sa.Column("unit_id", sa.Integer, nullable=False),
    sa.Column("touchpoint_id", sa.Integer, nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("item_code", sa.String(64), nullable=False),
    *_score_sums(),
    sa.PrimaryKeyConstraint("grain", "bucket", "staff_id", "unit_id", "touchpoint_id", "channel",
                            "item_code"),
    sqlite_with_rowid=False,
)

# The rows of text_agg added up per unit subtree (the unit and every unit below it) over survey,
# touchpoint and channel (0016): per day and month x unit x aspect code x label. Kept with
# text_agg (store/text_aggregates); the text insights page reads it.
unit_text_agg = sa.Table(
    "unit_text_agg", metadata,
    sa.Column("grain", sa.String(1), nullable=False),
    sa.Column("bucket", sa.Date, nullable=False),
    sa.Column("unit_id", sa.Integer, nullable=False),
    sa.Column("aspect_code", sa.String(64), nullable=False),
    sa.Column("label", sa.String(16), nullable=False),
    sa.Column("n", sa.BigInteger, nullable=False),
    sa.Column("total", sa.Float, nullable=False),
    sa.PrimaryKeyConstraint("unit_id", "grain", "bucket", "aspect_code", "label"),
    sqlite_with_rowid=False,
)

# Per published survey version and question: the touchpoint the question is about and where its
# top and bottom boxes start (NPS: 9 and 6; a 1-5 scale: 4 and 2; yes/no: 1 and 0).
score_agg_question = sa.Table(
    "score_agg_question", metadata,
    sa.Column("survey_version_id", sa.Integer, nullable=False),
    sa.Column("question_key", sa.String(130), nullable=False),
    sa.Column("touchpoint_id", sa.Integer, nullable=True),
    sa.Column("top_from", sa.Float, nullable=True),
    sa.Column("bottom_to", sa.Float, nullable=True),
    sa.PrimaryKeyConstraint("survey_version_id", "question_key"),
)

# Responses folded one by one by the job (those up to the watermark were folded in bulk).
score_agg_folded = sa.Table(
    "score_agg_folded", metadata,
    sa.Column("response_id", sa.Integer, primary_key=True, autoincrement=False),
)

# Key drivers (0005): per month x unit x survey x (response) touchpoint x channel x item pair
# (item_a <= item_b; a == b holds the item alone), over the responses that answered both items:
# n, sums, sums of squares, the sum of products, and item_a's top-box count. Pairwise Pearson
# correlations for relative weights follow from these sums. Folded with score_agg.
driver_agg = sa.Table(
    "driver_agg", metadata,
    *_cell(grain=False),
    sa.Column("item_a", sa.String(64), nullable=False),
    sa.Column("item_b", sa.String(64), nullable=False),
    *_pair_sums(),
    sa.PrimaryKeyConstraint(*CELL, "item_a", "item_b"),
    sqlite_with_rowid=False,
)

# Key drivers with comment aspects (0011): per month x unit x survey x (response) touchpoint x
# channel, over the responses with an analysed comment, the parts the item x aspect and
# aspect x aspect pair sums are made of (store/driver_aspect_aggregates): ('', '') analysed
# responses, (item, '') the item's answers, (aspect, aspect) the responses that mention the
# aspect, (item, aspect) and (aspect, aspect') the responses holding both. Folded in the
# transaction that stores an analysis, unfolded in the one that replaces it.
driver_aspect_agg = sa.Table(
    "driver_aspect_agg", metadata,
    *_cell(grain=False),
    sa.Column("item_a", sa.String(80), nullable=False),
    sa.Column("item_b", sa.String(80), nullable=False),
    *_pair_sums(),
    sa.Column("top_b", sa.BigInteger, nullable=False),
    sa.PrimaryKeyConstraint(*CELL, "item_a", "item_b"),
    sqlite_with_rowid=False,
)

# --- closed loop: alert rules, cases, action plans ----------------------------------------

alert_rule = sa.Table(
    "alert_rule", metadata, _id(),
    sa.Column("name", sa.String(200), nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    sa.Column("condition", Json, nullable=False),
    sa.Column("action", Json, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
    # closed loop (0003): opaque id, scope beyond the unit subtree, SLA policy
    sa.Column("public_id", sa.String(32), nullable=True),
    sa.Column("scope", Json, nullable=True),
    sa.Column("sla", Json, nullable=True),
    sa.Column("updated_at", UtcDateTime, nullable=True),
    sa.Index("ix_alert_rule_public_id", "public_id", unique=True),
)

cx_case = sa.Table(
    "cx_case", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    _fk("response_id", "response.id", index=True),
    _fk("rule_id", "alert_rule.id"),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    _fk("customer_id", "customer.id", index=True),
    _fk("owner_user_id", "app_user.id", index=True, ondelete="SET NULL"),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("root_cause", sa.String(64), nullable=True),
    _created(),
    sa.Column("due_at", UtcDateTime, nullable=True),
    sa.Column("closed_at", UtcDateTime, nullable=True),
    # closed loop (0003)
    sa.Column("acknowledged_at", UtcDateTime, nullable=True),
    sa.Column("first_contact_at", UtcDateTime, nullable=True),
    sa.Column("resolved_at", UtcDateTime, nullable=True),
    sa.Column("escalation_level", sa.Integer, nullable=False, server_default="0"),
    sa.Column("updated_at", UtcDateTime, nullable=True),
)

# every alert rule a case's response matched (0027): the case's own rule_id is the first of them
case_rule = sa.Table(
    "case_rule", metadata,
    sa.Column("case_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              sa.ForeignKey("cx_case.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("rule_id", sa.BigInteger().with_variant(sa.Integer, "sqlite"),
              sa.ForeignKey("alert_rule.id"), primary_key=True, index=True),
    sa.Column("position", sa.Integer, nullable=False, server_default="0"),
)

case_timer = sa.Table(
    "case_timer", metadata, _id(),
    _fk("case_id", "cx_case.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("due_at", UtcDateTime, nullable=False),
    sa.Column("met_at", UtcDateTime, nullable=True),
    sa.Column("breached_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("case_id", "kind"),
    sa.Index("ix_case_timer_open", "met_at", "breached_at", "due_at"),
)

business_calendar = sa.Table(
    "business_calendar", metadata, _id(),
    _fk("unit_id", "org_unit.id", nullable=False, ondelete="CASCADE"),
    sa.Column("hours", Json, nullable=False),
    sa.Column("holidays", Json, nullable=False, default=list),
    sa.Column("workdays", Json, nullable=False, default=list),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.UniqueConstraint("unit_id"),
)

notification_preference = sa.Table(
    "notification_preference", metadata, _id(),
    _fk("user_id", "app_user.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("target", sa.String(1000), nullable=False),
    # signs generic webhooks (tiyan's secret), or a chat robot's signing secret (加签, the user's)
    sa.Column("secret", sa.String(100), nullable=True),
    sa.Column("events", Json, nullable=False, default=list),
    sa.Column("mentions", Json, nullable=False, default=list),  # mobiles a robot @-mentions
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
    sa.UniqueConstraint("user_id", "channel"),
)

# a unit's own channels (0029): a store's e-mail addresses and chat robots, told of the cases and
# alerts of the unit and the units below it
unit_channel = sa.Table(
    "unit_channel", metadata, _id(),
    _fk("unit_id", "org_unit.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("target", sa.String(1000), nullable=False),
    sa.Column("secret", sa.String(100), nullable=True),  # a robot's signing secret (加签)
    sa.Column("mentions", Json, nullable=False, default=list),  # mobiles a robot @-mentions
    sa.Column("events", Json, nullable=False, default=list),  # none: every event
    sa.Column("locale", sa.String(16), nullable=False, server_default="zh-CN"),
    sa.Column("active", sa.Boolean, nullable=False, server_default=sa.true()),
    _created(),
)

notification = sa.Table(
    "notification", metadata, _id(),
    _fk("case_id", "cx_case.id", index=True, ondelete="CASCADE"),
    _fk("user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("event", sa.String(32), nullable=False),
    sa.Column("channel", sa.String(16), nullable=False),
    sa.Column("target", sa.String(1000), nullable=False),
    sa.Column("subject", sa.String(300), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    _created(),
    sa.Column("sent_at", UtcDateTime, nullable=True),
    sa.Index("ix_notification_status_next", "status", "next_attempt_at"),
    # a unit's channel rather than a person's (0029): its robot secret and mentions come from it
    _fk("unit_channel_id", "unit_channel.id", ondelete="SET NULL"),
)

callback_task = sa.Table(
    "callback_task", metadata, _id(),
    sa.Column("public_id", sa.String(32), nullable=False, unique=True),
    _fk("case_id", "cx_case.id", index=True, ondelete="SET NULL"),
    _fk("response_id", "response.id", nullable=False, index=True),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    _fk("customer_id", "customer.id", index=True),
    _fk("assigned_user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("reason", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False, index=True),
    sa.Column("due_at", UtcDateTime, nullable=False),
    _created(),
    sa.Column("done_at", UtcDateTime, nullable=True),
    sa.UniqueConstraint("response_id"),
)

callback_call = sa.Table(
    "callback_call", metadata, _id(),
    _fk("task_id", "callback_task.id", nullable=False, index=True, ondelete="CASCADE"),
    _fk("user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("at", UtcDateTime, nullable=False),
    sa.Column("outcome", sa.String(16), nullable=False),
    sa.Column("recovered", sa.Boolean, nullable=True),
    sa.Column("satisfaction", sa.Float, nullable=True),
    sa.Column("note", sa.Text, nullable=True),
)

case_event = sa.Table(
    "case_event", metadata, _id(),
    _fk("case_id", "cx_case.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("at", UtcDateTime, nullable=False),
    _fk("user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("kind", sa.String(32), nullable=False),
    sa.Column("detail", Json, nullable=False, default=dict),
)

action_plan = sa.Table(
    "action_plan", metadata, _id(),
    sa.Column("title", sa.String(300), nullable=False),
    sa.Column("kpi", sa.String(64), nullable=False),
    _fk("unit_id", "org_unit.id", nullable=False, index=True),
    _fk("owner_user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("start_date", sa.Date, nullable=False),
    sa.Column("end_date", sa.Date, nullable=True),
    sa.Column("detail", Json, nullable=False, default=dict),
    _created(),
    sa.Column("public_id", sa.String(32), nullable=True),  # closed loop (0003)
    sa.Index("ix_action_plan_public_id", "public_id", unique=True),
)

action_task = sa.Table(
    "action_task", metadata, _id(),
    _fk("plan_id", "action_plan.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("title", sa.String(300), nullable=False),
    _fk("owner_user_id", "app_user.id", ondelete="SET NULL"),
    sa.Column("due_date", sa.Date, nullable=True),
    sa.Column("status", sa.String(16), nullable=False),
    _created(),
    sa.Column("done_at", UtcDateTime, nullable=True),
)

# --- prediction ---------------------------------------------------------------------------

churn_score = sa.Table(
    "churn_score", metadata, _id(),
    _fk("customer_id", "customer.id", nullable=False, index=True, ondelete="CASCADE"),
    sa.Column("model_version", sa.String(64), nullable=False),
    sa.Column("probability", sa.Float, nullable=False),
    sa.Column("reasons", Json, nullable=False, default=list),
    sa.Column("scored_at", UtcDateTime, nullable=False),
)

# --- installation-wide settings -----------------------------------------------------------

app_setting = sa.Table(
    "app_setting", metadata,
    sa.Column("key", sa.String(64), primary_key=True),
    sa.Column("value", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)

# --- background work ----------------------------------------------------------------------

job = sa.Table(
    "job", metadata, _id(),
    sa.Column("kind", sa.String(64), nullable=False),
    sa.Column("payload", Json, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("run_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("locked_by", sa.String(64), nullable=True),
    sa.Column("locked_at", UtcDateTime, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    # the reason's message key and values (tiyan.errors), for the reader's language; None when
    # the reason is not one of tiyan's messages
    sa.Column("last_error_key", sa.String(120), nullable=True),
    sa.Column("last_error_params", Json, nullable=True),
    _created(),
    # realtime (alerts, cases, sends, webhooks) or bulk (imports, rebuilds, periodic reports)
    sa.Column("lane", sa.String(16), nullable=False, server_default="realtime"),
    # a running job's worker renews this while it lives; once past, the job is claimable again
    sa.Column("lease_until", UtcDateTime, nullable=True),
    # one live (queued or running) row per key, e.g. a periodic job's kind; cleared when it ends
    sa.Column("unique_key", sa.String(64), nullable=True),
    sa.Index("ix_job_status_lane_run_at", "status", "lane", "run_at"),
    sa.Index("ux_job_unique_key", "unique_key", unique=True),
)

# --- stored files (uploads, case attachments, trained models) --------------------------------
# The database is the object store every process reads (tiyan.services.storage): a file's
# bytes are split into chunks of at most 1 MiB, so neither side holds a large file at once.

stored_object = sa.Table(
    "stored_object", metadata, _id(),
    sa.Column("key", sa.String(300), nullable=False, unique=True),
    sa.Column("size", sa.BigInteger, nullable=False, server_default="0"),
    sa.Column("chunks", sa.Integer, nullable=False, server_default="0"),
    sa.Column("content_type", sa.String(100), nullable=True),
    _created(),
    # a file nobody claimed (an import preview) is removed after this; None: kept
    sa.Column("expires_at", UtcDateTime, nullable=True, index=True),
    # where the bytes are: None for chunks in `stored_object_chunk`; else the object's name in
    # the S3-compatible bucket (a name of its own per version, so a rolled-back replacement
    # never overwrites what the committed row points at)
    sa.Column("location", sa.String(600), nullable=True),
)

# Bucket objects no row points at any more (replaced or deleted): removed from the bucket by
# `ObjectStore.purge` once the transaction that let go of them has committed.
stored_object_gone = sa.Table(
    "stored_object_gone", metadata, _id(),
    sa.Column("location", sa.String(600), nullable=False),
    sa.Column("gone_at", UtcDateTime, nullable=False),
)

stored_object_chunk = sa.Table(
    "stored_object_chunk", metadata,
    _fk("object_id", "stored_object.id", nullable=False, ondelete="CASCADE"),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
    sa.PrimaryKeyConstraint("object_id", "seq"),
)
