"""Keys of `httpx.Request.extensions` that the client's layers pass to one another.

The executor sets the correlation id and the operation id when it builds a request; the request
loop sets the attempt number before each attempt. The wire transport's log records and the
loop's retry records read them.
"""

from __future__ import annotations

CORRELATION_ID = "musicagent.correlation_id"
"""The id shared by every attempt of one logical call."""
OPERATION_ID = "musicagent.operation_id"
"""The spec's operationId of a request built by a client method."""
ATTEMPT = "musicagent.attempt"
"""The attempt number (1 for the first try), set by the request loop."""
