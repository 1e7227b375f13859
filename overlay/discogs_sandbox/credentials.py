"""Who is calling: the sandbox's checks of personal tokens, key/secret pairs and OAuth 1.0a.

Accepted, as Discogs documents them:

- ``Authorization: Discogs token=…`` or ``?token=…`` — a user's personal token;
- ``Authorization: Discogs key=…, secret=…`` or ``?key=…&secret=…`` — the application alone;
- ``Authorization: OAuth …`` (or ``oauth_*`` query parameters) signed with PLAINTEXT or
  HMAC-SHA1, verified with oauthlib's signature functions; nonces cannot be replayed and
  timestamps must be within five minutes.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, cast

from oauthlib.common import Request as OAuthRequest
from oauthlib.oauth1.rfc5849 import signature as oauth_signature

from discogs_sandbox.config import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    token_for,
)
from discogs_sandbox.rules import unauthorized
from discogs_sandbox.state import SandboxState

__all__ = ["CONSUMERS", "Principal", "PrincipalKind", "resolve_principal"]

PrincipalKind = Literal["anonymous", "token", "app", "oauth", "oauth-consumer", "oauth-request"]

CONSUMERS = {SANDBOX_CONSUMER_KEY: SANDBOX_CONSUMER_SECRET}
"""Applications the sandbox knows: consumer key -> consumer secret."""

_TIMESTAMP_SKEW = 300.0
_MILLISECONDS_FROM = 1e11  # a seconds timestamp passes this in the year 5138
MAX_NONCE_LENGTH = 64
"""Discogs refuses longer OAuth nonces on signed API requests."""
_SIGNATURE_METHODS = ("PLAINTEXT", "HMAC-SHA1")


@dataclass(frozen=True)
class Principal:
    """The caller of one request.

    ``kind`` is ``anonymous``, ``token`` (personal token), ``app`` (key/secret), ``oauth``
    (access token), ``oauth-consumer`` (signed by the application only: request-token step) or
    ``oauth-request`` (signed with a request token: access-token step).
    """

    kind: PrincipalKind
    username: str | None = None
    consumer_key: str | None = None
    oauth_token: str | None = None
    verifier: str | None = None
    callback: str | None = None
    client: str = ""

    @property
    def authenticated(self) -> bool:
        """Whether a credential Discogs knows was given (high rate tier, image URLs).

        A personal token no user has is not one: it gets the anonymous tier and no images.
        """
        if self.kind == "token":
            return self.username is not None
        return self.kind != "anonymous"

    @property
    def rate_key(self) -> str:
        """What the rate limit counts against: the credential, or the IP without one."""
        if self.kind == "token":
            return f"token:{self.username}" if self.username else f"token?:{self.client}"
        if self.kind == "oauth":
            return f"oauth:{self.consumer_key}:{self.oauth_token}"
        if self.kind in ("app", "oauth-consumer", "oauth-request"):
            return f"app:{self.consumer_key}"
        return f"ip:{self.client}"


def _discogs_fields(value: str) -> dict[str, str]:
    fields = {}
    for part in value.split(","):
        name, _, raw = part.strip().partition("=")
        fields[name.strip().lower()] = raw.strip().strip('"')
    return fields


def _token_user(state: SandboxState, token: str) -> str | None:
    """The dataset user a personal token belongs to; None for a token no user has.

    A test double is more useful lenient here: an unknown token still reads public data (as
    any credential does, at the authenticated rate tier), and is refused with 401 by every
    operation that needs to know the user (`Call.current_user`).
    """
    if not token.strip():
        raise unauthorized("empty personal token")
    for name in state.users:
        if token_for(name) == token:
            return name
    return None


def _app(key: str, secret: str) -> str:
    if CONSUMERS.get(key) != secret:
        raise unauthorized("unknown consumer key or wrong consumer secret")
    return key


def resolve_principal(
    state: SandboxState,
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    query: Mapping[str, str],
    body: bytes,
    client: str,
    clock: float | None = None,
) -> Principal:
    """Work out who sent a request; raises :class:`ApiError` (401) for bad credentials."""
    authorization = headers.get("authorization", "").strip()
    scheme, _, rest = authorization.partition(" ")
    scheme = scheme.lower()
    if scheme == "discogs":
        fields = _discogs_fields(rest)
        if "token" in fields:
            return Principal("token", username=_token_user(state, fields["token"]), client=client)
        if "key" in fields and "secret" in fields:
            return Principal(
                "app", consumer_key=_app(fields["key"], fields["secret"]), client=client
            )
        raise unauthorized("Discogs authorization needs token=… or key=…, secret=…")
    if scheme == "oauth" or any(name.startswith("oauth_") for name in query):
        return _oauth(state, method, url, headers, body, client, clock)
    if authorization:
        raise unauthorized(f"unsupported authorization scheme {scheme!r}")
    if "token" in query:
        return Principal("token", username=_token_user(state, query["token"]), client=client)
    if "key" in query or "secret" in query:
        return Principal(
            "app", consumer_key=_app(query.get("key", ""), query.get("secret", "")), client=client
        )
    return Principal("anonymous", client=client)


def _oauth(
    state: SandboxState,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    client: str,
    clock: float | None,
) -> Principal:
    content_type = headers.get("content-type", "")
    form = "application/x-www-form-urlencoded" in content_type
    text = body.decode("utf-8", "replace") if form else ""
    oauth_headers = (
        {"Authorization": headers["authorization"]} if "authorization" in headers else {}
    )
    # The stubs type oauthlib's Request narrowly; it also carries the signature and parameters.
    request: Any = OAuthRequest(url, cast(Any, method.upper()), text, oauth_headers)
    try:
        header_params = oauth_signature.collect_parameters(
            headers=oauth_headers, exclude_oauth_signature=False, with_realm=True
        )
        body_params = oauth_signature.collect_parameters(body=text, exclude_oauth_signature=False)
        query_params = oauth_signature.collect_parameters(
            uri_query=request.uri_query, exclude_oauth_signature=False
        )
    except ValueError as exc:
        raise unauthorized(f"malformed OAuth parameters: {exc}") from None
    params = [*header_params, *body_params, *query_params]
    oauth = {k: v for k, v in params if k.startswith("oauth_")}
    missing = [
        name
        for name in (
            "oauth_consumer_key",
            "oauth_signature",
            "oauth_signature_method",
            "oauth_nonce",
            "oauth_timestamp",
        )
        if not oauth.get(name)
    ]
    # PLAINTEXT needs no nonce or timestamp in RFC 5849; HMAC does.
    if oauth.get("oauth_signature_method") == "PLAINTEXT":
        missing = [m for m in missing if m not in ("oauth_nonce", "oauth_timestamp")]
    if missing:
        raise unauthorized(f"missing OAuth parameter(s): {', '.join(missing)}")
    method_name = oauth["oauth_signature_method"]
    if method_name not in _SIGNATURE_METHODS:
        raise unauthorized(f"signature method {method_name!r} not supported")
    consumer_key = oauth["oauth_consumer_key"]
    consumer_secret = CONSUMERS.get(consumer_key)
    if consumer_secret is None:
        raise unauthorized("unknown OAuth consumer key")
    token = oauth.get("oauth_token")
    token_secret = ""
    principal: Principal
    if not token:
        principal = Principal(
            "oauth-consumer",
            consumer_key=consumer_key,
            callback=oauth.get("oauth_callback"),
            client=client,
        )
    elif token in state.access_tokens:
        access = state.access_tokens[token]
        if access.consumer_key != consumer_key:
            raise unauthorized("OAuth token was issued to another application")
        token_secret = access.secret
        principal = Principal(
            "oauth",
            username=access.username,
            consumer_key=consumer_key,
            oauth_token=token,
            client=client,
        )
    elif token in state.request_tokens:
        pending = state.request_tokens[token]
        token_secret = pending.secret
        principal = Principal(
            "oauth-request",
            consumer_key=consumer_key,
            oauth_token=token,
            verifier=oauth.get("oauth_verifier"),
            client=client,
        )
    else:
        raise unauthorized("unknown or revoked OAuth token")
    request.signature = oauth["oauth_signature"]
    request.params = [(k, v) for k, v in params if k not in ("oauth_signature", "realm")]
    verify = (
        oauth_signature.verify_plaintext
        if method_name == "PLAINTEXT"
        else oauth_signature.verify_hmac_sha1
    )
    if not verify(request, consumer_secret, token_secret):
        raise unauthorized("OAuth signature does not match")
    if "oauth_timestamp" in oauth:
        now = clock if clock is not None else time.time()
        token_step = principal.kind in ("oauth-consumer", "oauth-request")
        _check_freshness(state, consumer_key, oauth, now, token_step=token_step)
    return principal


def _check_freshness(
    state: SandboxState,
    consumer_key: str,
    oauth: Mapping[str, str],
    now: float,
    *,
    token_step: bool,
) -> None:
    """Timestamp within five minutes, nonce never seen (and short enough).

    The token endpoints take a timestamp in milliseconds and a long nonce (clients send
    both and their flows work); signed API requests need seconds and at most 64 characters.
    """
    try:
        stamp = float(oauth["oauth_timestamp"])
    except ValueError:
        raise unauthorized("oauth_timestamp is not a number") from None
    if stamp > _MILLISECONDS_FROM:
        if not token_step:
            raise unauthorized("oauth_timestamp must be in seconds, not milliseconds")
        stamp /= 1000.0
    if abs(now - stamp) > _TIMESTAMP_SKEW:
        raise unauthorized("oauth_timestamp is more than five minutes off")
    nonce = oauth.get("oauth_nonce", "")
    if len(nonce) > MAX_NONCE_LENGTH and not token_step:
        raise unauthorized(f"oauth_nonce is longer than {MAX_NONCE_LENGTH} characters")
    if nonce and not state.remember_nonce(consumer_key, oauth["oauth_timestamp"], nonce):
        raise unauthorized("oauth_nonce was already used (replayed request)")
