"""The one check for URLs the server will call (webhooks, provider base URLs).

A URL typed by a user must not let the server reach its own network: loopback, private,
link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, multicast and reserved
addresses are refused unless `settings.ALLOW_PRIVATE_NETWORK_TARGETS` is on (development, tests
with local servers). The host is resolved and *every* address it resolves to is checked, because
one public and one private record would otherwise slip through. Call it when the URL is saved and
again right before each request: DNS answers can change in between.
"""

from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError

ALLOWED_SCHEMES = ("http", "https")
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class RefusedURL(ValidationError):
    """The rule refuses this URL whatever happens next (scheme, credentials, a private
    address): retrying is pointless. A host that does not resolve is a plain ValidationError,
    since DNS may answer later."""


def check_outgoing_url(url: str, *, field: str = "url") -> str:
    """Return `url` when the server may call it, else raise ValidationError({field: reason})
    (RefusedURL when no later attempt can succeed)."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port that is not a number or out of range
    except ValueError:
        raise RefusedURL({field: "This is not a valid URL."}) from None
    if parts.scheme.lower() not in ALLOWED_SCHEMES:
        raise RefusedURL({field: "Only http:// and https:// URLs are allowed."})
    host = parts.hostname
    if not host:
        raise RefusedURL({field: "The URL has no host name."})
    if parts.username or parts.password:
        raise RefusedURL({field: "Put credentials in the secret, not in the URL."})
    if settings.ALLOW_PRIVATE_NETWORK_TARGETS:
        return url.strip()
    for address in resolve(host, port or (443 if parts.scheme == "https" else 80), field=field):
        if not is_public(address):
            raise RefusedURL(
                {
                    field: f"{host} resolves to {address}, a private, loopback or link-local "
                    "address; the server does not call those."
                }
            )
    return url.strip()


def resolve(host: str, port: int, *, field: str = "url") -> list[IPAddress]:
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        raise ValidationError({field: f"The host name {host} does not resolve."}) from None
    # Strip an IPv6 zone id ("fe80::1%eth0") before parsing.
    return [ipaddress.ip_address(info[4][0].split("%", 1)[0]) for info in infos]


def is_public(address: IPAddress) -> bool:
    # An IPv4-mapped IPv6 address (::ffff:127.0.0.1) is judged as the IPv4 address it carries.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_global and not address.is_multicast
