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
from importer.cli import EXIT_USAGE
from importer.cli.api import DEFAULT_URL, ClientError, Endpoint, request_json
from importer.cli.follow import follow
from importer.cli.submit import upload
from importer.settings import Settings

# One demo user across runs, so the wheels of earlier demos show up in the page too.
DEMO_USER_ID = uuid.UUID("00000000-0000-4000-8000-0000000de300")
DEMO_EMAIL = "demo@localhost.test"


async def run(endpoint: Endpoint) -> int:
    example = resources.files("importer").joinpath("examples/aktiviteter.csv")
    year = datetime.date.today().year
    async with aiohttp.ClientSession() as session:
        wheel = await request_json(session, endpoint, "POST", "/api/wheels",
                                   json={"title": f"Redovisningsbyrån {year} (demo)", "year": year})
        print(f"Wheel {wheel['id']} created: {wheel['title']}")
        print(f"Follow it in the browser too: {endpoint.url}/#token={endpoint.token}&wheel={wheel['id']}\n",
              flush=True)
        with resources.as_file(example) as path:
            job = await upload(session, endpoint, path, wheel["id"])
        print(f"Import startad: job {job['id']}", flush=True)
        return await follow(session, endpoint, job)


def main() -> int:
    settings = Settings.from_env()
    token = tokens.mint(settings.jwt_secret, DEMO_USER_ID, email=DEMO_EMAIL, ttl=24 * 3600)
    endpoint = Endpoint(url=(os.environ.get("IMPORTER_URL") or DEFAULT_URL).rstrip("/"), token=token)
    try:
        return asyncio.run(run(endpoint))
    except ClientError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (aiohttp.ClientError, OSError) as exc:
        print(f"error: cannot reach {endpoint.url} ({exc}); is `make run` running?", file=sys.stderr)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())
