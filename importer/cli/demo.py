"""`make demo`: import the bundled example file into a new wheel through the API, as a user would.

Needs the stack of `make run` (or any server at $IMPORTER_URL that trusts IMPORTER_JWT_SECRET).
"""

from __future__ import annotations

import asyncio
import datetime
import os
import sys
import uuid
from importlib import resources

import aiohttp

from importer import tokens
from importer.cli import EXIT_INTERRUPTED, EXIT_USAGE, terminal
from importer.cli.api import DEFAULT_URL, ClientError, Endpoint, request_json
from importer.cli.follow import follow
from importer.cli.submit import Started, interrupted_hint, upload
from importer.settings import Settings

# One demo user across runs, so the wheels of earlier demos show up in the page too.
DEMO_USER_ID = uuid.UUID("00000000-0000-4000-8000-0000000de300")
DEMO_EMAIL = "demo@localhost.test"


async def run(endpoint: Endpoint, started: Started) -> int:
    example = resources.files("importer").joinpath("examples/aktiviteter.csv")
    year = datetime.date.today().year
    async with aiohttp.ClientSession() as session:
        wheel = await request_json(session, endpoint, "POST", "/api/wheels",
                                   json={"title": f"Redovisningsbyrån {year} (demo)", "year": year})
        print(f"Wheel {wheel['id']} created: {terminal.clean(wheel['title'])}")
        print(f"Follow it in the browser too: {endpoint.url}/#token={endpoint.token}&wheel={wheel['id']}\n",
              flush=True)
        with resources.as_file(example) as path:
            job = await upload(session, endpoint, path, wheel["id"])
        started.job_id = job["id"]
        print(f"Import startad: job {job['id']}", flush=True)
        return await follow(session, endpoint, job)


def main() -> int:
    settings = Settings.from_env()
    token = tokens.mint(settings.jwt_secret, DEMO_USER_ID, email=DEMO_EMAIL, ttl=24 * 3600)
    # The token is made here, so hints print it as it is: $IMPORTER_TOKEN in the user's shell is
    # unset or another user's (the one of `make run`), which gave 401 or 404.
    endpoint = Endpoint(url=(os.environ.get("IMPORTER_URL") or DEFAULT_URL).rstrip("/"), token=token)
    started = Started()
    try:
        return asyncio.run(run(endpoint, started))
    except ClientError as exc:
        print(terminal.clean(f"error: {exc}"), file=sys.stderr)
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError) as exc:
        print(f"error: cannot reach {endpoint.url} ({exc}); is `make run` running "
              f"(on another port: `make demo PORT=...`)?", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print(f"\n{interrupted_hint(started.job_id)}", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
