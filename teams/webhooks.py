"""Webhook signatures (pure): `X-Crossover-Signature: t=<unix time>,v1=<hex>`.

v1 is the hex HMAC-SHA256, keyed with the webhook's secret, of `"<t>." + raw body`. Receivers
recompute it over the raw body they got, compare in constant time and reject old timestamps
(replays); see README "Webhooks".
"""

from __future__ import annotations

import hashlib
import hmac

SIGNATURE_HEADER = "X-Crossover-Signature"


def sign(secret: str, body: bytes, timestamp: int) -> str:
    message = str(timestamp).encode() + b"." + body
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int) -> str:
    return f"t={timestamp},v1={sign(secret, body, timestamp)}"
