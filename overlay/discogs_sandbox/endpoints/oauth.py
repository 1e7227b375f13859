"""The OAuth 1.0a token endpoints (the authorize page lives in the app: it is a web page)."""

from __future__ import annotations

from urllib.parse import urlencode

from discogs_sandbox.endpoints.registry import Call, Reply, handles
from discogs_sandbox.rules import ApiError, unauthorized

REQUEST_TOKEN_LIFETIME = 15 * 60.0
"""Seconds a request token (and its verifier) stays usable, as on Discogs."""

FORM = "application/x-www-form-urlencoded"


@handles("get_request_token")
def get_request_token(call: Call) -> Reply:
    """GET /oauth/request_token: signed by the application alone."""
    principal = call.principal
    if principal.kind != "oauth-consumer" or principal.consumer_key is None:
        raise unauthorized("sign this request with the consumer key and secret only")
    record = call.state.issue_request_token(principal.consumer_key, principal.callback or "oob")
    body = urlencode(
        {
            "oauth_token": record.token,
            "oauth_token_secret": record.secret,
            "oauth_callback_confirmed": "true",
        }
    )
    return Reply(200, body.encode("ascii"), media_type=FORM)


@handles("get_access_token")
def get_access_token(call: Call) -> Reply:
    """POST /oauth/access_token: trade an authorised request token and verifier."""
    principal = call.principal
    if principal.kind != "oauth-request" or principal.oauth_token is None:
        raise unauthorized("sign this request with the request token")
    record = call.state.request_tokens[principal.oauth_token]
    if call.state.clock() - record.issued > REQUEST_TOKEN_LIFETIME:
        del call.state.request_tokens[principal.oauth_token]
        raise ApiError(400, "The request token has expired; start again with a new one.")
    if record.verifier is None or record.username is None:
        raise ApiError(400, "The request token has not been authorized yet.")
    if principal.verifier != record.verifier:
        raise ApiError(400, "Invalid oauth_verifier.")
    access = call.state.exchange_request_token(principal.oauth_token)
    body = urlencode({"oauth_token": access.token, "oauth_token_secret": access.secret})
    return Reply(200, body.encode("ascii"), media_type=FORM)
