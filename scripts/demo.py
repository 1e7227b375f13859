"""The main job on the built-in sandbox: export a collection to CSV and JSON with the real CLI.

    python scripts/demo.py [--collection-size N] [--out-dir exports]

Starts the loopback sandbox (user `sandbox`, token `sandbox-token`), then runs
`musicagent export collection sandbox` against it twice — CSV, then JSON — showing the progress
bar and the summary line, exactly as a user would against api.discogs.com with their own token.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
from pathlib import Path

from musicagent.testing import SANDBOX_TOKEN, SANDBOX_USERNAME, Sandbox


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--collection-size", type=int, default=1000)
    parser.add_argument("--out-dir", type=Path, default=Path("exports"))
    args = parser.parse_args()
    args.out_dir.mkdir(parents=True, exist_ok=True)
    cli = shutil.which("musicagent", path=str(Path(sys.executable).parent)) or "musicagent"
    with Sandbox(collection_size=args.collection_size) as sandbox:
        print(f"Sandbox running at {sandbox.base_url} (user {SANDBOX_USERNAME})\n", flush=True)
        env = {**os.environ, "DISCOGS_CACHE_DIR": str(args.out_dir / ".cache")}
        for fmt in ("csv", "json"):
            out = args.out_dir / f"collection-{SANDBOX_USERNAME}.{fmt}"
            command = [
                cli, "export", "collection", SANDBOX_USERNAME,
                "--base-url", sandbox.base_url,
                "--token", SANDBOX_TOKEN,
                "--format", fmt,
                "--out", str(out),
            ]  # fmt: skip
            print("$ musicagent " + " ".join(command[1:]), flush=True)
            done = subprocess.run(command, env=env, check=False)
            if done.returncode != 0:
                return done.returncode
            print(flush=True)
        stats = sandbox.stats()
    print(
        f"The sandbox answered {stats.get('requests')} requests, "
        f"{stats.get('status_429', 0)} of them 429."
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
