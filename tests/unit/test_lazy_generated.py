"""The generated models and operations load one at a time; models complete in their package.

Each check runs in a fresh interpreter: what a process has imported before is exactly what is
under test, and this one has long since loaded every model.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

CAPTURE = Path(__file__).parents[1] / "data" / "captures" / "release" / "y2014-release-1.json"


def _run(path: Path) -> str:
    # In the script's own folder: a .env file lying in the working folder is not read.
    proc = subprocess.run(
        [sys.executable, str(path)], capture_output=True, text=True, cwd=path.parent
    )
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_a_callers_namespace_never_changes_a_parse(tmp_path: Path) -> None:
    body = json.loads(CAPTURE.read_text(encoding="utf-8"))
    assert body["tracklist"], "the capture must have a tracklist"
    # The module using the model names `Track` (and `Image`) something else, and is the first
    # to use `Release`: the tracklist must still be `Track` models, not the caller's `dict`.
    script = tmp_path / "caller.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys
            from discogs_models import Release
            from discogs_models._base import DiscogsModel

            Track = dict
            Image = list

            release = Release.model_validate_json(open({str(CAPTURE)!r}, "rb").read())
            kinds = {{type(t).__name__ for t in release.tracklist}}
            print(sorted(kinds), all(isinstance(t, DiscogsModel) for t in release.tracklist))
            print(type(release.images[0]).__name__ if release.images else "Image")
            """
        ),
        encoding="utf-8",
    )
    lines = _run(script).splitlines()
    assert lines == ["['Track'] True", "Image"]


def test_one_model_loads_only_what_it_references(tmp_path: Path) -> None:
    script = tmp_path / "one.py"
    script.write_text(
        "import sys\nimport discogs_models\ndiscogs_models.Track\n"
        "print(sorted(m for m in sys.modules if m.startswith('discogs_models._models.')))\n",
        encoding="utf-8",
    )
    loaded = _run(script).strip()
    assert loaded == "['discogs_models._models.artist_credit', 'discogs_models._models.track']"


def test_every_model_is_complete_on_import(tmp_path: Path) -> None:
    script = tmp_path / "all.py"
    script.write_text(
        "import discogs_models\n"
        "names = [n for n in discogs_models.__all__ if not n.startswith('Discogs')]\n"
        "incomplete = [n for n in names if not getattr(discogs_models, n).__pydantic_complete__]\n"
        "print(len(names), incomplete)\n",
        encoding="utf-8",
    )
    count, incomplete = _run(script).split(" ", 1)
    assert int(count) > 100
    assert incomplete.strip() == "[]"


def test_an_unknown_name_is_an_attribute_error() -> None:
    import discogs_models

    try:
        discogs_models.NoSuchModel  # noqa: B018
    except AttributeError as exc:
        assert "NoSuchModel" in str(exc)
    else:
        raise AssertionError("an unknown model name must raise AttributeError")


def test_the_operation_table_builds_only_the_operation_looked_up(tmp_path: Path) -> None:
    script = tmp_path / "ops.py"
    script.write_text(
        "import sys\n"
        "from discogs_facade import OPERATIONS\n"
        "assert 'get_release' in OPERATIONS and len(OPERATIONS) == len(list(OPERATIONS)) > 50\n"
        "before = sorted(m for m in sys.modules if m.startswith('discogs_api.api.'))\n"
        "op = OPERATIONS['get_release']\n"
        "assert op is OPERATIONS['get_release'] and op.model.__name__ == 'Release'\n"
        "after = sorted(m for m in sys.modules if m.startswith('discogs_api.api.')\n"
        "               and m.count('.') == 3)\n"
        "print(before, after)\n",
        encoding="utf-8",
    )
    assert _run(script).strip() == "[] ['discogs_api.api.database.get_release']"


def test_an_unknown_operation_is_a_key_error() -> None:
    from discogs_facade import OPERATIONS

    assert "no_such_operation" not in OPERATIONS
    try:
        OPERATIONS["no_such_operation"]
    except KeyError:
        pass
    else:
        raise AssertionError("an unknown operation id must raise KeyError")


def test_a_sync_get_loads_no_async_facade_no_schema_validator_no_file_logging(
    tmp_path: Path,
) -> None:
    # What a sync program's first GET needs, and no more: the async facade, the JSON Schema
    # validator (only to explain a refused body), rotating file handlers, asyncio and a
    # settings framework's command-line and cloud sources stay unloaded; python-dotenv loads
    # only when a .env file exists.
    script = tmp_path / "get.py"
    script.write_text(
        textwrap.dedent(
            f"""
            import sys, httpx
            body = open({str(CAPTURE)!r}, "rb").read()
            transport = httpx.MockTransport(lambda request: httpx.Response(200, content=body))
            from musicagent import Discogs
            with Discogs("t", cache=False, transport=transport) as client:
                assert client.database.get_release(1).id == 1
            loaded = [m for m in ("discogs_facade.asynchronous", "musicagent.async_client",
                                  "jsonschema_rs", "logging.handlers", "asyncio", "argparse",
                                  "pydantic_settings", "dotenv") if m in sys.modules]
            print(loaded)
            from musicagent import AsyncDiscogs
            from musicagent.client import AsyncDiscogs as same
            assert AsyncDiscogs is same and "discogs_facade.asynchronous" in sys.modules
            """
        ),
        encoding="utf-8",
    )
    assert _run(script).strip() == "[]"
