"""What can go wrong in ``alerts``, as a small tree the caller can catch as broadly as it needs.

    AlertsError
    ├── NotConfigured   a channel's options or secrets are wrong: fix the config, do not retry
    └── DeliveryError   the configured receiver could not be reached or refused: retry later

The split matters to ``monitor``: a ``NotConfigured`` is a usage error found before anything is
sent, a ``DeliveryError`` is recorded on the delivery and retried by the next digest.
"""

from __future__ import annotations


class AlertsError(Exception):
    """Base of every error raised by ``alerts``."""


class NotConfigured(AlertsError):
    """A channel option is missing, unknown or malformed, or a secret is absent from the env.

    ``field`` names the offending key so the config loader can point at it.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class DeliveryError(AlertsError):
    """Sending failed: refused connection, timeout, SMTP error, non-2xx answer, disk error."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message
