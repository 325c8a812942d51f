"""WhatsApp Cloud API channel: webhook (verify, parse, record, process) and the Graph API sender.

Shape of the channel::

    Meta ──POST /webhook/whatsapp──▶ verify X-Hub-Signature-256 on the RAW body (401 if bad)
                                     parse once into frozen WAMessage / WAStatus objects
                                     record each message durably (inbound_messages, 'received')
                                     apply statuses to outbox rows, user id updates
                                                                              ──▶ 200 at once
         per-user queue, ordered by the message timestamp (webhooks arrive out of order)
         the sender's chat (BSUID or number: services.whatsapp_identity)
         download media ▶ Incoming ▶ Engine.handle ▶ WhatsAppSender.send_reply ▶ replies_sent
    a restart re-queues recorded-but-unprocessed messages and replays unsent replies

Modules: ``config`` (settings, limits, signature), ``inbound`` (one message of every type),
``webhook`` (a whole POST: messages, statuses, ``user_id_update``, other fields), ``render``
(replies as Cloud API objects, ``to`` / ``recipient``), ``templates``, ``sender`` (Graph API,
errors, media), ``statuses`` (outbox rows), ``channel`` (routes, queues, processing).

A user is named by a business-scoped user id (BSUID, ``ID.1502576394655843``) and/or a number;
a user with a username may show no number at all. Chats are keyed by the BSUID when known and
messages go ``to`` the number when known, else to the ``recipient`` BSUID.

Running it alone: ``python bot.py whatsapp [--host H] [--port P] [--db PATH]`` (``main``).

Running it inside the shared ``bot.py serve`` server (one event loop with Telegram and the
scheduler)::

    from lingkaran.channels.whatsapp import WhatsAppChannel, WhatsAppConfig
    config = WhatsAppConfig.from_env()           # raises ConfigError naming missing variables
    wa = WhatsAppChannel(db, config, engine=engine, clock=utc_now)   # engine: track_replies=True
    routes = [*wa.routes, ...]                   # Route("/webhook/whatsapp", GET + POST)
    # in the Starlette lifespan: await wa.start() ... await wa.stop()
    dispatcher_senders["whatsapp"] = wa.sender   # channels.base.Sender for the outbox

``build_app(wa)`` gives a Starlette app with just this channel and that lifespan.

Outbound contract (``WhatsAppSender.send_outbound``): the 24 h customer-service window is checked
at send time from ``message.last_inbound_at``; inside it the rendered ``message.reply`` goes out
free-form, outside it (or when the row's params carry ``_force_template: true``, set by the status
handler after a 131047 failure) the approved template for ``msg_key`` from
``channels/data/whatsapp_templates.json`` is sent; no template → ``HoldMessage``.
"""

from __future__ import annotations

from lingkaran.channels.uploads import sniff_mime
from lingkaran.channels.whatsapp.channel import (
    WhatsAppChannel,
    build_app,
)
from lingkaran.channels.whatsapp.config import (
    CHANNEL,
    DEFAULT_API_ROOT,
    DEFAULT_API_VERSION,
    FORCE_TEMPLATE,
    RE_ENGAGEMENT,
    TEMPLATES_FILE,
    WEBHOOK_PATH,
    ConfigError,
    WhatsAppConfig,
    masked_ref,
    sign,
    verify_signature,
)
from lingkaran.channels.whatsapp.inbound import (
    WAMessage,
    decode_choice_id,
    encode_choice_id,
    message_from_record,
    normalize_timestamp,
    parse_message,
    reduce_record,
)
from lingkaran.channels.whatsapp.render import (
    render_reply,
    smart_truncate,
    split_text,
)
from lingkaran.channels.whatsapp.sender import (
    ALLOWED_MEDIA,
    MediaRejected,
    WhatsAppSender,
    classify_error,
)
from lingkaran.channels.whatsapp.statuses import (
    apply_status,
)
from lingkaran.channels.whatsapp.templates import (
    Template,
    TemplateBook,
    TemplateParamsMissing,
)
from lingkaran.channels.whatsapp.webhook import (
    WAError,
    WAStatus,
    WebhookBatch,
    parse_status,
    parse_webhook,
)

__all__ = [
    "ALLOWED_MEDIA",
    "CHANNEL",
    "DEFAULT_API_ROOT",
    "DEFAULT_API_VERSION",
    "FORCE_TEMPLATE",
    "RE_ENGAGEMENT",
    "TEMPLATES_FILE",
    "WEBHOOK_PATH",
    "ConfigError",
    "MediaRejected",
    "Template",
    "TemplateBook",
    "TemplateParamsMissing",
    "WAError",
    "WAMessage",
    "WAStatus",
    "WebhookBatch",
    "WhatsAppChannel",
    "WhatsAppConfig",
    "WhatsAppSender",
    "apply_status",
    "build_app",
    "classify_error",
    "decode_choice_id",
    "encode_choice_id",
    "masked_ref",
    "message_from_record",
    "normalize_timestamp",
    "parse_message",
    "parse_status",
    "parse_webhook",
    "reduce_record",
    "render_reply",
    "sign",
    "smart_truncate",
    "sniff_mime",
    "split_text",
    "verify_signature",
]
