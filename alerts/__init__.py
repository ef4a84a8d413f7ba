"""doxwatch alerts: a Digest value in, messages out (text, Markdown, HTML; e-mail, webhook,
files, standard output). Knows nothing of the database; ``monitor`` builds the digest."""

from alerts.channels import (
    CHANNELS,
    Channel,
    build_channel,
    channel_class,
    register,
    validate_channel,
)
from alerts.digest import Digest, DigestEntry
from alerts.errors import AlertsError, DeliveryError, NotConfigured
from alerts.render import render_html, render_markdown, render_text

__all__ = [
    "CHANNELS",
    "AlertsError",
    "Channel",
    "DeliveryError",
    "Digest",
    "DigestEntry",
    "NotConfigured",
    "build_channel",
    "channel_class",
    "register",
    "render_html",
    "render_markdown",
    "render_text",
    "validate_channel",
]
