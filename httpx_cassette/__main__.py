"""``python -m httpx_cassette``: the same command as ``httpx-cassette``."""

from httpx_cassette.cli import main

raise SystemExit(main())
