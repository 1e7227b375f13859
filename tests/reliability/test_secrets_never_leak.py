"""Secrets never reach log lines, exception text or reprs, whatever goes wrong.

Against the sandbox, with logging at DEBUG (musicagent's own text and JSON set-ups writing to
the console and to files, and an application's plain handler that masks nothing itself), the
client makes calls with a personal token, with a consumer key and secret, and with OAuth
(PLAINTEXT and HMAC-SHA1): successes, 401s, 404s, 5xx and 429 answers that are retried, reset
and stalled connections, a refused connection, a failed OAuth flow, the command line with
`--debug`. Then every captured log line, every log record's attributes, every exception's
text, repr and traceback, and the reprs of clients and credentials are searched for the
token, the consumer secret, the OAuth token and token secret, and every OAuth signature that
was sent.
"""

from __future__ import annotations

import logging
import re
import socket
import traceback
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, unquote

import httpx
import pytest
from typer.testing import CliRunner

from musicagent import Discogs
from musicagent.auth import AccessToken, OAuth1Auth, OAuthFlow
from musicagent.cli import app
from musicagent.errors import DiscogsAPIError
from musicagent.logging import LoggerConfig, configure_logging, reset_logging
from musicagent.ratelimit import RateLimiter
from musicagent.retry import RetryPolicy
from musicagent.settings import DiscogsSettings
from musicagent.testing import (
    SANDBOX_CONSUMER_KEY,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    SANDBOX_TOKEN,
    Sandbox,
)
from tests.reliability.conftest import FAULT_SEED

pytestmark = pytest.mark.integration

WRONG_TOKEN = "wrong-personal-token-5f2c"
WRONG_SECRET = "wrong-consumer-secret-9d1e"
WRONG_TOKEN_SECRET = "wrong-oauth-token-secret-77a0"
FIXED_SECRETS = (
    SANDBOX_TOKEN,
    SANDBOX_CONSUMER_SECRET,
    SANDBOX_OAUTH_TOKEN,
    SANDBOX_OAUTH_TOKEN_SECRET,
    WRONG_TOKEN,
    WRONG_SECRET,
    WRONG_TOKEN_SECRET,
)
FEW_RETRIES = RetryPolicy(
    max_attempts=3, backoff_factor=0.01, max_backoff=0.02, throttled_wait=0.01
)


class SignatureLog(httpx.HTTPTransport):
    """The real HTTP transport, keeping every OAuth signature that goes out."""

    def __init__(self) -> None:
        super().__init__()
        self.signatures: set[str] = set()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        found = re.search(r'oauth_signature="([^"]+)"', request.headers.get("Authorization", ""))
        if found:
            self.signatures.add(unquote(found.group(1)))
        return super().handle_request(request)


class RawRecords(logging.Handler):
    """Keeps every record reaching the root logger, with all of its attributes, as text.

    Records of the sandbox's own server thread are left out: they are what the server logs
    (oauthlib verifying a signature prints its base string), and Discogs' logs are not ours.
    """

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.threadName.startswith("discogs-sandbox:"):
            return
        self.texts.append(record.getMessage())
        self.texts.append(repr(vars(record)))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    # A short window: the client waits one out after every 429, so 429s stay cheap.
    with Sandbox(rate_limit=1000, rate_window=0.2, seed=FAULT_SEED) as running:
        yield running


@pytest.fixture
def raw_records() -> Iterator[RawRecords]:
    """Every log record of every logger at DEBUG, as an application's own handler sees it."""
    root, package = logging.getLogger(), logging.getLogger("musicagent")
    levels = (root.level, package.level)
    handler = RawRecords()
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    reset_logging()
    root.setLevel(levels[0])
    package.setLevel(levels[1])


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Exercise:
    """Runs calls that succeed and fail, keeping the exceptions and the reprs worth scanning."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.wire = SignatureLog()
        self.errors: list[BaseException] = []
        self.reprs: list[str] = []
        self.extra_secrets: set[str] = set()

    def attempt(self, call: Callable[[], Any]) -> None:
        try:
            call()
        except Exception as exc:
            self.errors.append(exc)

    def client(self, **credentials: Any) -> Discogs:
        options: dict[str, Any] = {
            "base_url": self.sandbox.base_url,
            "transport": self.wire,
            "retry_policy": FEW_RETRIES,
            "timeout": 0.2,
            "cache": False,
            "rate_limiter": RateLimiter(1000, 0.2),
        }
        client = Discogs(**{**options, **credentials})
        self.reprs += [repr(client), repr(client.auth), repr(client.limiter), str(client.stats)]
        return client

    def calls_through_every_failure(self, client: Discogs) -> None:
        sandbox = self.sandbox
        self.attempt(lambda: client.database.get_release(1))
        self.attempt(lambda: client.users.get_identity())
        self.attempt(lambda: client.users.get_profile("no-such-user-here"))
        with sandbox.injecting(p5xx=1.0, seed=FAULT_SEED):
            self.attempt(lambda: client.database.get_release(2))
        with sandbox.injecting(p429=1.0, burst_429=2, seed=FAULT_SEED):
            self.attempt(lambda: client.database.get_release(3))
        with sandbox.injecting(p_reset=1.0, seed=FAULT_SEED):
            self.attempt(lambda: client.database.get_release(4))
        with sandbox.injecting(p_stall=1.0, stall_seconds=1.0, seed=FAULT_SEED):
            self.attempt(lambda: client.database.get_release(5))
        self.reprs += [repr(client.rate_limit), str(client.stats)]
        client.close()

    def run(self) -> None:
        # The three kinds of credential, through successes and every kind of failure.
        self.calls_through_every_failure(self.client(token=SANDBOX_TOKEN))
        self.calls_through_every_failure(
            self.client(consumer_key=SANDBOX_CONSUMER_KEY, consumer_secret=SANDBOX_CONSUMER_SECRET)
        )
        access = AccessToken(SANDBOX_OAUTH_TOKEN, SANDBOX_OAUTH_TOKEN_SECRET)
        self.reprs.append(repr(access))
        self.calls_through_every_failure(
            self.client(
                consumer_key=SANDBOX_CONSUMER_KEY,
                consumer_secret=SANDBOX_CONSUMER_SECRET,
                oauth=access,
            )
        )
        hmac = OAuth1Auth(
            SANDBOX_CONSUMER_KEY,
            SANDBOX_CONSUMER_SECRET,
            SANDBOX_OAUTH_TOKEN,
            SANDBOX_OAUTH_TOKEN_SECRET,
            signature_method="HMAC-SHA1",
        )
        self.calls_through_every_failure(self.client(oauth=hmac))

        # Credentials the server refuses.
        for credentials in (
            {"token": WRONG_TOKEN},
            {"consumer_key": SANDBOX_CONSUMER_KEY, "consumer_secret": WRONG_SECRET},
            {
                "oauth": OAuth1Auth(
                    SANDBOX_CONSUMER_KEY,
                    SANDBOX_CONSUMER_SECRET,
                    SANDBOX_OAUTH_TOKEN,
                    WRONG_TOKEN_SECRET,
                    signature_method="HMAC-SHA1",
                )
            },
        ):
            with self.client(**credentials) as client:
                self.attempt(lambda c=client: c.users.get_identity())

        # Nobody listening.
        with self.client(
            token=SANDBOX_TOKEN, base_url=f"http://127.0.0.1:{_closed_port()}"
        ) as client:
            self.attempt(lambda: client.database.get_release(1))

        # The three-legged flow, ending with a verifier the server refuses.
        with OAuthFlow(
            SANDBOX_CONSUMER_KEY, SANDBOX_CONSUMER_SECRET, base_url=self.sandbox.base_url
        ) as flow:
            request_token = flow.fetch_request_token()
            self.extra_secrets.add(request_token.token_secret)
            self.reprs += [repr(flow), repr(request_token)]
            self.attempt(lambda: flow.fetch_access_token(request_token, "wrong-verifier-0042"))

        settings = DiscogsSettings(
            token=SANDBOX_TOKEN,
            consumer_key=SANDBOX_CONSUMER_KEY,
            consumer_secret=SANDBOX_CONSUMER_SECRET,
            oauth_token=SANDBOX_OAUTH_TOKEN,
            oauth_token_secret=SANDBOX_OAUTH_TOKEN_SECRET,
        )
        self.reprs += [repr(settings), str(settings)]

    def cli_outputs(self) -> list[str]:
        """The command line failing, with and without `--debug` (tracebacks included)."""
        runner = CliRunner()
        closed = f"http://127.0.0.1:{_closed_port()}"
        texts = []
        for args in (
            ["whoami", "--token", WRONG_TOKEN, "--base-url", self.sandbox.base_url],
            ["get", "release", "1", "--token", SANDBOX_TOKEN, "--base-url", closed],
        ):
            for debug in ([], ["--debug"]):
                result = runner.invoke(app, [*args, *debug])
                assert result.exit_code != 0
                texts.append(result.output)
                if result.exc_info is not None and not isinstance(result.exception, SystemExit):
                    texts.append("".join(traceback.format_exception(*result.exc_info)))
        return texts

    def secrets(self) -> set[str]:
        found = {*FIXED_SECRETS, *self.extra_secrets, *self.wire.signatures}
        return found | {quote(secret, safe="") for secret in found}

    def error_texts(self) -> list[str]:
        texts = []
        for error in self.errors:
            texts += [str(error), repr(error), "".join(traceback.format_exception(error))]
        return texts


def _leaks(texts: list[str], secrets: set[str]) -> list[str]:
    return [
        f"{secret!r} in {text[:200]!r}"
        for text in texts
        for secret in sorted(secrets)
        if secret in text
    ]


@pytest.mark.parametrize("setup", ["text", "json", "own handler"])
def test_secrets_never_reach_logs_errors_or_reprs(
    setup: str,
    sandbox: Sandbox,
    raw_records: RawRecords,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The command line's retries, shortened: a refused connection is retried, not waited out.
    monkeypatch.setenv("DISCOGS_MAX_RETRIES", "2")
    monkeypatch.setenv("DISCOGS_RETRY_BACKOFF_FACTOR", "0.01")
    monkeypatch.setenv("DISCOGS_CACHE", "off")
    sandbox.reset()
    log_dir = tmp_path / "logs"
    if setup != "own handler":
        configure_logging(LoggerConfig(level="DEBUG", dir=log_dir, format=setup, console=True))
    else:
        logging.getLogger("musicagent").setLevel(logging.DEBUG)
    run = Exercise(sandbox)

    run.run()
    cli_texts = run.cli_outputs()
    reset_logging()  # flush and close the files before reading them
    console = capsys.readouterr()
    files = [path.read_text(encoding="utf-8") for path in sorted(log_dir.glob("*.log*"))]

    logged = [console.err, console.out, *files, *raw_records.texts]
    texts = [*logged, *run.error_texts(), *run.reprs, *cli_texts]
    kinds = {type(error).__name__ for error in run.errors}
    all_logs = "\n".join(logged)

    # The scan is only worth something if the failures really happened and were logged.
    assert {"AuthenticationError", "ResourceNotFoundError", "ServerError", "NetworkError"} <= kinds
    assert all(isinstance(error, DiscogsAPIError) for error in run.errors)
    assert len(run.wire.signatures) >= 10
    assert "Retrying GET" in all_logs and " -> 401 " in all_logs and "ReadTimeout" in all_logs
    if setup != "own handler":
        assert files and all(files)  # the error file exists only once an ERROR was logged
    assert _leaks(texts, run.secrets()) == []
