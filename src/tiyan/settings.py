"""All configuration in one place: `TIYAN_*` environment variables (see docs/settings.md)."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_DB_URL = f"sqlite:///{Path.cwd() / 'tiyan.db'}"


class Settings(BaseSettings):
    """Settings read from `TIYAN_<NAME>` environment variables."""

    model_config = SettingsConfigDict(env_prefix="TIYAN_", extra="ignore")

    db_url: str = Field(
        default=DEFAULT_DB_URL,
        description="SQLAlchemy URL of the database (default: SQLite file in the working folder).",
    )
    db_pgbouncer: bool = Field(
        default=False, description="The database URL reaches PostgreSQL through PgBouncer in "
                                   "transaction mode: never use prepared statements (or write "
                                   "`?pgbouncer=true` on the URL).",
    )
    db_pool_size: int = Field(
        default=10, ge=1, le=1000, description="PostgreSQL connections each process keeps open "
                                               "(per database URL; see docs/database.md).",
    )
    db_max_overflow: int = Field(
        default=10, ge=0, le=1000, description="Connections a process may open beyond "
                                               "`TIYAN_DB_POOL_SIZE` when busy (closed again "
                                               "when returned).",
    )
    db_read_url: str = Field(
        default="", description="SQLAlchemy URL of a PostgreSQL streaming replica that "
                                "read-only web requests (pages, lists, exports) read from; "
                                "empty: everything reads the primary. A client that wrote in "
                                "the last `TIYAN_DB_READ_AFTER_WRITE_SECONDS` reads the primary.",
    )
    db_read_after_write_seconds: int = Field(
        default=10, ge=0, le=3600, description="After a request that wrote, that client's "
                                               "requests read the primary for this long (a "
                                               "cookie), so it sees its own writes although "
                                               "the replica lags.",
    )
    session_hours: int = Field(
        default=12, description="Lifetime of a web sign-in session in hours."
    )
    secure_cookies: bool = Field(
        default=False, description="Mark cookies Secure (set true behind HTTPS)."
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="Address respondents reach tiyan at; used in survey links, QR codes, e-mails.",
    )
    default_locale: str = Field(default="zh-CN", description="UI language when none is chosen.")
    min_n: int = Field(default=30, description="Figures with fewer responses show 'too few'.")
    drivers_per_item: int = Field(
        default=10, ge=1, description="Key drivers are ranked only with at least this many "
                                      "responses per item (and never fewer than the minimum n).",
    )
    signin_window_minutes: int = Field(
        default=15, ge=1, le=1440, description="Window over which failed sign-ins are counted "
                                               "(shared by every process on the database).",
    )
    signin_failures_per_account: int = Field(
        default=10, ge=1, description="Failed sign-ins per account in the window after which "
                                      "that account's sign-in is refused until they age out.",
    )
    signin_failures_per_address: int = Field(
        default=30, ge=1, description="Failed sign-ins per client address in the window after "
                                      "which sign-in from that address is refused.",
    )
    trusted_proxies: str = Field(
        default="", description="Reverse proxies whose `X-Forwarded-For` is believed "
                                "(comma-separated addresses or CIDRs, e.g. `10.0.0.0/8`); the "
                                "client is the right-most address not in this list. Empty: the "
                                "header is ignored and the direct peer is the client.",
    )
    api_token_days: int = Field(
        default=90, ge=1, le=3650, description="Lifetime of a new API token in days when none "
                                               "is given (a token that never expires must be "
                                               "asked for explicitly).",
    )

    worker_in_app: bool = Field(
        default=True,
        description="Run background work (sending, reminders, webhooks) inside the web app; "
                    "set false when a separate `tiyan worker` runs it.",
    )
    worker_poll_seconds: float = Field(
        default=1.0, gt=0, description="How often the background worker looks for due work."
    )
    worker_lanes: str = Field(
        default="realtime,bulk",
        description="Lanes of background work the in-app worker runs, comma-separated: "
                    "`realtime` (alerts, cases, notifications, invitations, webhooks) and `bulk` "
                    "(imports, churn refresh, retention, monthly reports); each lane has a "
                    "thread of its own, so bulk work never holds up real-time work. "
                    "`tiyan worker --lanes` chooses them for a separate worker.",
    )
    job_lease_seconds: float = Field(
        default=30.0, ge=2, le=3600,
        description="How long a claimed background job stays its worker's without a sign of "
                    "life: the worker renews the lease every third of it while the job runs, "
                    "and a job whose lease ran out (its worker died) is run again by another.",
    )
    worker_drain_seconds: float = Field(
        default=60.0, ge=0, description="On SIGTERM or Ctrl-C a worker stops claiming and waits "
                                        "this long for the jobs it is running to finish; jobs "
                                        "it claimed but had not started go back to the queue.",
    )
    job_stuck_minutes: int = Field(
        default=15, ge=1, description="A due job still waiting after this many minutes shows "
                                      "as stuck on the administrators' jobs page.",
    )

    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as `text` (for a terminal) or `json` (one object a line, for a "
                    "log collector); each carries the request id of the request it belongs to.",
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field(
        default="INFO",
        description="Least severe log level written: DEBUG, INFO, WARNING or ERROR.",
    )
    access_log: bool = Field(default=True, description="Write one log line per web request "
                                                       "(method, route, status, duration, "
                                                       "client address).")
    metrics_token: str | None = Field(
        default=None, description="Bearer token that opens `/metrics` to a Prometheus server "
                                  "(`Authorization: Bearer <token>`); none: no token opens it.",
    )
    metrics_allow: str = Field(
        default="", description="Client addresses or CIDRs that may read `/metrics` without a "
                                "token, e.g. `10.0.5.0/24` (the client as "
                                "`TIYAN_TRUSTED_PROXIES` resolves it). With this and the token "
                                "both empty, `/metrics` answers 404.",
    )

    text_industry: str = Field(
        default="",
        description="Aspect taxonomy for comments whose unit (or its ancestors) names no "
                    "`industry` attribute: car_aftersales, car_product, hotel, restaurant, retail, "
                    "banking or telecom; empty: sentiment, keywords and redaction without aspects.",
    )
    webhook_timeout_seconds: float = Field(
        default=10.0, gt=0, description="How long a webhook endpoint may take to answer before "
                                        "the attempt counts as failed and is retried.",
    )
    outbound_allowed_hosts: str = Field(
        default="", description="On-premises targets that webhooks, notifications and the SMS "
                                "gateway may reach although they are loopback, private or "
                                "link-local (refused otherwise): host names as written in the "
                                "URL, addresses or networks, comma-separated, e.g. "
                                "`sms.corp.local,10.20.0.0/16`.",
    )
    smtp_host: str = Field(default="localhost", description="SMTP server for outgoing e-mail.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP server port.")
    smtp_from: str = Field(default="tiyan@localhost", description="Sender address of e-mails.")
    smtp_username: str | None = Field(default=None, description="SMTP login (none: no login).")
    smtp_password: str | None = Field(default=None, description="SMTP password.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with "
                                                           "STARTTLS before sending.")
    contact_quarantine_days: int = Field(
        default=30, ge=0, description="Invite a customer at most once in this many days across "
                                      "all surveys (0: no quarantine); a rule may set its own.",
    )
    phone_region: str = Field(
        default="CN", description="Region of phone numbers written without a country code "
                                  "(ISO 3166 code, e.g. CN, HK, US); every number is stored and "
                                  "matched in E.164, e.g. 13812345678 as +8613812345678.",
    )
    invitation_send_attempts: int = Field(
        default=5, ge=1, description="Tries to hand an invitation to the mail server or SMS "
                                     "gateway before it is marked failed.",
    )
    sms_url: str = Field(default="", description="SMS gateway address that takes a form POST "
                                                 "per message (empty: SMS is off).")
    sms_to_field: str = Field(default="to", description="Form field for the mobile number.")
    sms_text_field: str = Field(default="text", description="Form field for the message text.")
    sms_sender_field: str = Field(default="from", description="Form field for the sender name.")
    sms_reference_field: str = Field(
        default="reference", description="Form field for tiyan's reference (the invitation id), "
                                         "which the provider sends back in status callbacks.",
    )
    sms_sender: str = Field(default="", description="Sender name or number (empty: not sent).")
    sms_auth_header: str = Field(default="Authorization",
                                 description="Header that carries the gateway credential.")
    sms_auth_value: str | None = Field(
        default=None, description="Value of that header, e.g. `Bearer <key>` (none: no header).",
    )
    sms_callback_key: str | None = Field(
        default=None, description="Secret the provider's status callback must carry as "
                                  "`?key=` (none: callbacks are refused).",
    )
    sms_status_field: str = Field(default="status", description="Field of the status callback "
                                                               "that carries the delivery status.")
    sms_delivered_values: str = Field(
        default="delivered,DELIVRD,success", description="Callback status values meaning "
                                                         "delivered (comma-separated).",
    )
    sms_failed_values: str = Field(
        default="failed,undelivered,UNDELIV,REJECTD,EXPIRED",
        description="Callback status values meaning not delivered (comma-separated).",
    )
    sms_reply_from_field: str = Field(
        default="from", description="Field of the reply callback (a customer's answer to an SMS, "
                                    "such as T to opt out) that carries their number.",
    )
    sms_reply_text_field: str = Field(default="text", description="Field of the reply callback "
                                                                  "that carries the text.")
    sms_max_segments: int = Field(
        default=3, ge=1, le=10, description="Longest invitation SMS, in billed segments (GSM-7: "
                                            "160, or 153 each when split; Chinese: 70, or 67); "
                                            "SMS rules whose text would be longer are refused.",
    )
    root_causes_file: str | None = Field(
        default=None, description="YAML tree of case root-cause codes replacing the built-in "
                                  "one (tiyan/domain/root_causes.yaml shows the format).",
    )
    files_dir: str | None = Field(
        default=None, description="Folder where case attachments were kept before they moved "
                                  "into the database (default `TIYAN_DATA_DIR/files`); read "
                                  "once, by the upgrade that moves them (migration 0025).",
    )
    storage: Literal["database", "s3"] = Field(
        default="database", description="Where new uploads, case attachments and trained models "
                                        "are stored: `database` (rows of the database, nothing "
                                        "else to run) or `s3` (an S3-compatible bucket, "
                                        "`TIYAN_S3_*`). Files already stored stay readable "
                                        "after a change; `tiyan storage move` moves them.",
    )
    s3_endpoint_url: str | None = Field(
        default=None, description="Address of the S3-compatible service (MinIO, Ceph, a cloud "
                                  "provider's S3 endpoint); none: AWS S3 of `TIYAN_S3_REGION`.",
    )
    s3_bucket: str = Field(default="", description="Bucket that holds tiyan's files.")
    s3_prefix: str = Field(default="tiyan/", description="Start of every object name tiyan "
                                                          "writes in the bucket; nothing outside "
                                                          "it is read or removed.")
    s3_region: str = Field(default="us-east-1", description="Region of the bucket.")
    s3_access_key_id: str | None = Field(
        default=None, description="Access key; none: the usual AWS sources (environment, "
                                  "shared credentials file, instance role).",
    )
    s3_secret_access_key: str | None = Field(default=None, description="Secret of the access "
                                                                       "key.")
    s3_addressing: Literal["path", "virtual"] = Field(
        default="path", description="`path` (https://host/bucket/name, what MinIO and most "
                                    "self-hosted stores expect) or `virtual` "
                                    "(https://bucket.host/name).",
    )
    attachment_max_mb: float = Field(default=10, gt=0, le=1024,
                                     description="Largest case attachment accepted, in MiB.")
    timezone: str = Field(
        default="Asia/Shanghai", description="Business time zone (IANA name) for days and months "
                                             "where no unit's own time zone applies, e.g. the VOC "
                                             "review of all one's units and its monthly e-mail; "
                                             "pages show times in it to users without a unit "
                                             "(docs/languages.md).",
    )
    pdf_font: str | None = Field(
        default=None, description="TTF/OTF/TTC font with Chinese glyphs for PDF reports (none: "
                                  "look for Debian's fonts-noto-cjk and other common places).",
    )

    data_dir: str = Field(
        default="tiyan-data", description="Folder where older versions kept case attachments "
                                          "(under `files/`); uploads, attachments and churn "
                                          "models are now stored in the database "
                                          "(docs/database.md). Relative: to the working folder.",
    )
    churn_window_days: int = Field(
        default=90, ge=14, le=730, description="The lapse interval of a segment that has no "
                                               "configured one and too few visits to learn one "
                                               "(fewer than 100 gaps between visits): a customer "
                                               "has churned when no transaction or visit follows "
                                               "in this many days.",
    )
    churn_windows: dict[str, int] = Field(
        default={},
        description='Lapse interval in days per segment (a unit\'s `industry`, or `all`), as '
                    'JSON, e.g. `{"car_aftersales": 365, "food": 21}`; a segment not named here '
                    "learns its interval from its customers' gaps between visits.",
    )
    churn_lapse_quantile: float = Field(
        default=0.9, gt=0.5, lt=1.0,
        description="Learned lapse interval: this quantile of a segment's gaps between "
                    "consecutive visits (0.9: nine in ten returning customers come back sooner).",
    )
    at_risk_threshold: float | None = Field(
        default=None, ge=0, le=1,
        description="Churn risk (0–1) from which a customer is on the at-risk worklist; empty: "
                    "automatic, the top decile of the current scores but never below the base "
                    "rate (share of churners) the current model was trained on.",
    )
    next_actions_file: str | None = Field(
        default=None, description="YAML of next-best-action rules replacing the built-in one "
                                  "(tiyan/domain/next_actions.yaml shows the format).",
    )

    retention_response_personal_days: int = Field(
        default=0, ge=0, description="Remove the personal data on responses (customer snapshot, "
                                     "imported extra columns) this many days after submission; "
                                     "scores stay (0: keep forever).",
    )
    retention_comment_days: int = Field(
        default=0, ge=0, description="Remove comments (free-text answers) and their text "
                                     "analyses this many days after submission; the text "
                                     "aggregates lose them, scores stay (0: keep forever).",
    )
    retention_invitation_days: int = Field(
        default=0, ge=0, description="Remove the contact (phone, e-mail), data and call notes "
                                     "of invitations, and delete received events, this many "
                                     "days after they were created (0: keep forever).",
    )
    retention_job_days: int = Field(
        default=14, ge=0, description="Delete done background jobs, delivered webhook messages "
                                      "and sent case notifications this many days after they "
                                      "were created (0: keep forever).",
    )
    retention_failed_job_days: int = Field(
        default=90, ge=0, description="Delete failed background jobs, webhook deliveries and "
                                      "case notifications this many days after they were "
                                      "created (0: keep forever); until then the jobs page "
                                      "shows them for a retry.",
    )
    retention_session_days: int = Field(
        default=30, ge=0, description="Delete sign-in sessions this many days after they "
                                      "expired, respondents' saved survey sessions this "
                                      "many days after their last change, and the device "
                                      "marks of anonymous-link answers this many days after "
                                      "the answer (0: keep forever).",
    )
    retention_audit_days: int = Field(
        default=0, ge=0, description="Delete audit-log entries older than this many days "
                                     "(0: keep forever).",
    )

    argon2_time_cost: int = Field(default=3, ge=1, description="argon2id passes per password hash.")
    argon2_memory_kib: int = Field(
        default=65536, ge=1024, description="argon2id memory per password hash, in KiB."
    )

    def files_path(self) -> Path:
        """Where older versions kept case attachments: TIYAN_FILES_DIR, else
        TIYAN_DATA_DIR/files (migration 0025 moves them into the database)."""
        return Path(self.files_dir) if self.files_dir else Path(self.data_dir) / "files"

    @field_validator("churn_windows")
    @classmethod
    def _churn_windows_in_range(cls, value: dict[str, int]) -> dict[str, int]:
        for segment, days in value.items():
            if not 14 <= days <= 730:
                raise ValueError(f"segment {segment!r}: {days} days is outside 14–730")
        return value

    @field_validator("trusted_proxies", "metrics_allow")
    @classmethod
    def _known_networks(cls, value: str) -> str:
        for part in value.split(","):
            try:
                if part.strip():
                    ip_network(part.strip(), strict=False)
            except ValueError:
                raise ValueError(f"{part.strip()!r} is not an address or CIDR such as "
                                 "10.0.0.0/8") from None
        return value

    @field_validator("worker_lanes")
    @classmethod
    def _known_lanes(cls, value: str) -> str:
        from tiyan.domain.jobs import parse_lanes
        from tiyan.errors import InvalidInput

        try:
            return ",".join(parse_lanes(value))
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    @field_validator("phone_region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        from tiyan.domain.contacts import check_region
        from tiyan.errors import InvalidInput

        try:
            return check_region(value)
        except InvalidInput as exc:
            raise ValueError(exc.message) from None

    @field_validator("outbound_allowed_hosts")
    @classmethod
    def _hosts_or_networks(cls, value: str) -> str:
        from tiyan.channels.outbound import unreadable_entries

        bad = unreadable_entries(value)
        if bad:
            raise ValueError(f"{bad[0]!r} is not a host name, address or network such as "
                             "sms.corp.local or 10.20.0.0/16")
        return value

    @model_validator(mode="after")
    def _sms_url_may_be_reached(self) -> Settings:
        """TIYAN_SMS_URL under the outbound policy (without a look-up: each send checks again)."""
        if self.sms_url:
            from tiyan.channels import outbound

            try:
                outbound.check_url(self.sms_url, outbound.policy_for(self), where="sms_url")
            except outbound.Refused as exc:
                raise ValueError(f"TIYAN_SMS_URL: {exc.message}") from None
        return self

    @model_validator(mode="after")
    def _bucket_for_s3(self) -> Settings:
        if self.storage == "s3" and not self.s3_bucket.strip():
            raise ValueError("TIYAN_STORAGE=s3 needs TIYAN_S3_BUCKET, the bucket that holds "
                             "the files")
        if self.s3_prefix.startswith("/"):
            raise ValueError("TIYAN_S3_PREFIX: an object name does not start with /")
        return self

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo

        try:
            ZoneInfo(value)
        except (ValueError, KeyError):
            raise ValueError(f"{value!r} is not a time zone such as Asia/Shanghai") from None
        return value


def load_settings(**overrides: object) -> Settings:
    return Settings(**overrides)  # type: ignore[arg-type]


def settings_markdown() -> str:
    """The settings reference (docs/settings.md), generated from the Settings class."""
    lines = ["# Settings", "",
             "tiyan reads its configuration from environment variables. This page is generated",
             "by `python -m tiyan.settings`; a test fails when it is out of date.", "",
             "| variable | default | meaning |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = "(working folder)/tiyan.db" if name == "db_url" else field.default
        shown = f"`{default}`" if default not in ("", None) else "(empty)"
        lines.append(f"| `TIYAN_{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    print(settings_markdown(), end="")
