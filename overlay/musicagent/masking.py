"""Secret masking for URLs, HTTP headers, free text and log records.

Everything that may end up in a log line, an exception message or a ``repr`` passes through
these functions first, so a personal token, a consumer secret, an OAuth token secret or an
OAuth signature is never written anywhere in clear text.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from urllib.parse import quote, unquote_plus

import httpx

__all__ = [
    "MASK",
    "MIN_REGISTERED_SECRET_LENGTH",
    "SecretMaskingFilter",
    "forget_secret",
    "is_secret_name",
    "known_secrets",
    "mask_headers",
    "mask_text",
    "mask_url",
    "register_secret",
]

MASK = "***"
"""What a masked value is replaced with."""

MIN_REGISTERED_SECRET_LENGTH = 8
"""Shortest value :func:`register_secret` accepts."""

# OAuth protocol parameters that carry no credential and help when reading a log.
_PUBLIC_OAUTH_PARAMETERS = frozenset(
    {
        "oauth_nonce",
        "oauth_timestamp",
        "oauth_signature_method",
        "oauth_version",
        "oauth_callback_confirmed",
    }
)
_SECRET_EXACT_NAMES = frozenset({"token", "key", "secret", "password", "apikey", "api_key"})
_SECRET_NAME_PARTS = ("token", "secret", "signature", "password", "verifier", "consumer_key")
_SECRET_HEADER_PARTS = ("token", "secret", "signature", "api-key", "apikey", "password")
_CREDENTIAL_HEADERS = frozenset({"authorization", "proxy-authorization"})
_OPAQUE_HEADERS = frozenset({"cookie", "set-cookie"})
_PARAMETER_SCHEMES = frozenset({"discogs", "oauth"})

# name=value or name="value" pairs, as found in Authorization headers, query strings and
# messages; the value stops where a URL, header list or sentence would continue.
_ASSIGNMENT = re.compile(
    r"""(?P<name>[A-Za-z_][\w.\-]*)(?P<sep>\s*=\s*)"""
    r"""(?:"(?P<quoted>[^"]*)"|(?P<bare>[^\s&,;"'<>()\[\]{}]+))"""
)
# "name": "value" and 'name': 'value', as in a JSON document or a printed dict.
_MAPPING_ENTRY = re.compile(
    r"""(?P<q1>["'])(?P<name>[A-Za-z_][\w.\-]*)(?P=q1)(?P<sep>\s*:\s*)"""
    r"""(?P<q2>["'])(?P<value>[^"']*)(?P=q2)"""
)
# Only "Bearer": "Basic" is too common an English word to mask what follows it in prose.
_BEARER = re.compile(r"(?i)\b(?P<scheme>bearer)\s+(?P<value>[A-Za-z0-9._~+/=\-]{8,})")
_URL_USERINFO = re.compile(r"(?P<scheme>[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^/\s@]+)@")

# Attributes every LogRecord has; anything else on a record came from ``extra=``.
_STANDARD_RECORD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", logging.INFO, "", 0, "", None, None))
) | {"message", "asctime"}

_registry_lock = threading.Lock()
_registry: set[str] = set()
# The registry as readers get it, replaced whole under the lock at each change: the cache reads
# it on every stored response, and a reference is read atomically without the lock.
_known: frozenset[str] = frozenset()


def register_secret(value: str | None) -> None:
    """Remember a secret so every :class:`SecretMaskingFilter` masks it wherever it appears.

    Credential classes call this for the tokens and secrets they are given, so a secret is
    hidden in log records even where the masking patterns cannot recognise it (an exception
    from another library, a value printed on its own). Values shorter than
    :data:`MIN_REGISTERED_SECRET_LENGTH` are ignored: masking every occurrence of a short
    string would garble unrelated log text, and real Discogs credentials are much longer.
    """
    if value and len(value) >= MIN_REGISTERED_SECRET_LENGTH:
        global _known
        with _registry_lock:
            _registry.add(value)
            _known = frozenset(_registry)


def forget_secret(value: str | None) -> None:
    """Stop masking a secret registered with :func:`register_secret` (after a token rotation)."""
    global _known
    if value:
        with _registry_lock:
            _registry.discard(value)
            _known = frozenset(_registry)


def known_secrets() -> frozenset[str]:
    """The secrets registered with :func:`register_secret` so far."""
    return _known


def is_secret_name(name: str) -> bool:
    """Whether a query, form, OAuth or JSON parameter with this name carries a credential.

    True for ``token``, ``key``, ``secret``, any ``oauth_*`` parameter except the harmless
    protocol ones (nonce, timestamp, signature method, version), and any name containing
    ``token``, ``secret``, ``signature``, ``password`` or ``verifier``.
    """
    lowered = name.lower()
    if lowered in _SECRET_EXACT_NAMES:
        return True
    if lowered.startswith("oauth_"):
        return lowered not in _PUBLIC_OAUTH_PARAMETERS
    return any(part in lowered for part in _SECRET_NAME_PARTS)


def mask_url(url: str | httpx.URL) -> str:
    """Return the URL with the values of credential query parameters replaced by ``***``.

    ``https://api.discogs.com/database/search?q=x&token=abc`` becomes
    ``https://api.discogs.com/database/search?q=x&token=***``; a password in the user-info part
    is masked too. Everything else is kept as written.
    """
    text = str(url)
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    base, hash_mark, fragment = text.partition("#")
    path, question_mark, query = base.partition("?")
    if not question_mark:
        return text
    masked_query = "&".join(_mask_query_pair(pair) for pair in query.split("&"))
    return f"{path}?{masked_query}{hash_mark}{fragment}"


def mask_headers(headers: Mapping[str, str] | httpx.Headers) -> dict[str, str]:
    """Return a copy of the headers that is safe to log.

    ``Authorization: Discogs token=abc`` becomes ``Discogs token=***``; an OAuth header keeps
    its harmless parameters (nonce, timestamp, method) and masks the rest
    (``oauth_token="***"``, ``oauth_signature="***"``); cookies and unknown credential schemes
    become ``***``.
    """
    masked: dict[str, str] = {}
    for name, value in headers.items():
        masked[name] = _mask_header_value(name, value)
    return masked


def mask_text(text: str, secrets: Iterable[str] = ()) -> str:
    """Return free text with every known secret and every credential assignment masked.

    Each string in ``secrets`` is replaced wherever it occurs, also in its percent-encoded
    form; ``token=…``, ``secret=…``, ``oauth_signature="…"``, ``"token": "…"`` and
    ``Bearer …`` values are masked by pattern.
    """
    for secret in _longest_first(secrets):
        text = text.replace(secret, MASK)
        encoded = quote(secret, safe="")
        if encoded != secret:
            text = text.replace(encoded, MASK)
        if len(secret) >= _ECHO_MIN_SECRET and secret[:_ECHO_PREFIX].lower() in text.lower():
            # A server may echo a secret lowercased, uppercased or cut short.
            text = _echo_pattern(secret).sub(_echo_masker(secret), text)
    text = _URL_USERINFO.sub(_mask_userinfo, text)
    text = _ASSIGNMENT.sub(_mask_assignment, text)
    text = _MAPPING_ENTRY.sub(_mask_mapping_entry, text)
    return _BEARER.sub(lambda match: f"{match['scheme']} {MASK}", text)


class SecretMaskingFilter(logging.Filter):
    """A logging filter that masks secrets in every record before a handler writes it.

    Attach it to a handler (``configure_logging`` does this for each handler it installs).
    It renders the message with its arguments, masks it with :func:`mask_text` using the
    secrets given here plus those registered with :func:`register_secret`, and masks
    string-valued ``extra`` fields, exception tracebacks and stack traces the same way. The
    record is changed in place, so handlers that see it afterwards get the masked version too;
    it is never dropped.
    """

    def __init__(self, secrets: Iterable[str] = (), name: str = "") -> None:
        super().__init__(name)
        self._secrets: set[str] = {secret for secret in secrets if secret}
        self._lock = threading.Lock()

    def add_secret(self, secret: str) -> None:
        """Mask this value in every later record passing through the filter."""
        if secret:
            with self._lock:
                self._secrets.add(secret)

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask the record in place; always keep it."""
        with self._lock:
            secrets = frozenset(self._secrets) | known_secrets()
        # Rendering here, not in the formatter, is what lets a secret passed as a %-argument
        # (a URL object, a dict of headers) be caught.
        record.msg = mask_text(record.getMessage(), secrets)
        record.args = None
        if record.exc_info:
            if not record.exc_text:
                record.exc_text = logging.Formatter().formatException(record.exc_info)
            # Formatters re-render exc_info when it is set; keeping only the masked text
            # means no formatter can bring the clear traceback back.
            record.exc_info = None
        if record.exc_text:
            record.exc_text = mask_text(record.exc_text, secrets)
        if record.stack_info:
            record.stack_info = mask_text(record.stack_info, secrets)
        for attribute, value in list(vars(record).items()):
            if attribute not in _STANDARD_RECORD_ATTRIBUTES and isinstance(value, str):
                setattr(record, attribute, mask_text(value, secrets))
        return True


_ECHO_MIN_SECRET = 12
"""Secrets at least this long are also masked when echoed in another case or cut short."""
_ECHO_PREFIX = 8
"""The shortest start of such a secret that is looked for; an echo cut short is masked when it
keeps at least two thirds of the secret (a shorter start could be an ordinary word)."""


@functools.lru_cache(maxsize=512)
def _echo_pattern(secret: str) -> re.Pattern[str]:
    # The first characters, then as many of the following ones as are there, in any case:
    # nested optional groups match the longest start of the secret present.
    head = re.escape(secret[:_ECHO_PREFIX])
    tail = "".join(f"(?:{re.escape(character)}" for character in secret[_ECHO_PREFIX:])
    return re.compile(head + tail + ")?" * (len(secret) - _ECHO_PREFIX), re.IGNORECASE)


def _echo_masker(secret: str) -> Callable[[re.Match[str]], str]:
    shortest = max(_ECHO_PREFIX, -(-2 * len(secret) // 3))
    return lambda match: MASK if len(match[0]) >= shortest else match[0]


def _longest_first(secrets: Iterable[str]) -> list[str]:
    # A secret that contains another must be replaced first, or its tail would leak.
    return sorted({secret for secret in secrets if secret}, key=len, reverse=True)


def _mask_query_pair(pair: str) -> str:
    name, equals, _value = pair.partition("=")
    if equals and is_secret_name(unquote_plus(name)):
        return f"{name}={MASK}"
    return pair


def _mask_userinfo(match: re.Match[str]) -> str:
    user, colon, _password = match["userinfo"].partition(":")
    if colon:
        return f"{match['scheme']}{user}:{MASK}@"
    return match[0]


def _mask_assignment(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]):
        return match[0]
    value = f'"{MASK}"' if match["quoted"] is not None else MASK
    return f"{match['name']}{match['sep']}{value}"


def _mask_mapping_entry(match: re.Match[str]) -> str:
    if not is_secret_name(match["name"]):
        return match[0]
    quote_mark = match["q2"]
    return f"{match['q1']}{match['name']}{match['q1']}{match['sep']}{quote_mark}{MASK}{quote_mark}"


def _mask_header_value(name: str, value: str) -> str:
    lowered = name.lower()
    if lowered in _CREDENTIAL_HEADERS:
        return _mask_authorization(value)
    if lowered in _OPAQUE_HEADERS or any(part in lowered for part in _SECRET_HEADER_PARTS):
        return MASK
    return value


def _mask_authorization(value: str) -> str:
    scheme, _space, parameters = value.strip().partition(" ")
    if scheme.lower() not in _PARAMETER_SCHEMES or not _ASSIGNMENT.search(parameters):
        return f"{scheme} {MASK}" if parameters else MASK
    masked = _ASSIGNMENT.sub(_mask_assignment, parameters)
    # Anything that is not a recognised name=value pair could be a bare credential.
    leftover = _ASSIGNMENT.sub("", masked).replace(",", "").strip()
    return f"{scheme} {masked}" if not leftover else f"{scheme} {MASK}"
