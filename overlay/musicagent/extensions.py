"""Keys of `httpx.Request.extensions` that the client's layers pass to one another.

The executor sets the correlation id and the operation id when it builds a request; the retry
transport sets the attempt number; the rate-limit transport records how long it waited. The
logging, retry and cache layers read them.
"""

from __future__ import annotations

CORRELATION_ID = "musicagent.correlation_id"
"""The id shared by every attempt of one logical call."""
OPERATION_ID = "musicagent.operation_id"
"""The spec's operationId of a request built by a client method."""
ATTEMPT = "musicagent.attempt"
"""The attempt number (1 for the first try), set by the retry layer."""
RATE_LIMIT_WAIT = "musicagent.rate_limit_wait"
"""Seconds the rate limiter held the request before sending it."""
