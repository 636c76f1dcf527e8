"""``govmon replay`` off loopback needs a token, like ``govmon serve`` (issue 19, item 8).

Nothing here binds a non-loopback address: a refusal happens before anything is bound, and the
token is checked on a replay served on 127.0.0.1.
"""

from __future__ import annotations

import base64
from pathlib import Path

import aiohttp
import pytest

from crawler.cli import main
from crawler.demo import RECORDING
from crawler.net.fetcher import GovResolver, HttpFetcher
from crawler.recordings.replay import make_app
from tests.support.localserver import serve

TOKEN = "s3cret-token-of-24-chars"
HOME = "http://www.district.test/"


@pytest.mark.parametrize("listen", ["0.0.0.0:0", "[::]:0", "10.1.2.3:8090"])
def test_replay_off_loopback_without_a_token_is_refused(
    listen: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVMON_TOKEN", raising=False)
    assert main(["replay", str(RECORDING), "--listen", listen]) == 2
    err = capsys.readouterr().err
    assert "refusing to listen" in err
    assert "token" in err


def test_a_short_token_is_refused(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOVMON_TOKEN", raising=False)
    short = tmp_path / "token"
    short.write_text("short\n", encoding="utf-8")
    argv = ["replay", str(RECORDING), "--listen", "0.0.0.0:0", "--token-file", str(short)]
    assert main(argv) == 2
    assert "at least 16 characters" in capsys.readouterr().err


async def test_with_a_token_every_request_must_carry_it() -> None:
    with serve(make_app([RECORDING], token=TOKEN)) as port:
        proxy = f"http://127.0.0.1:{port}"
        async with aiohttp.ClientSession() as session:
            async with session.get(HOME, proxy=proxy) as resp:
                assert resp.status == 407
            for wrong in ("govmon:not-the-token-at-all", f"{TOKEN}:", "!!"):
                auth = {"Proxy-Authorization": "Basic " + base64.b64encode(wrong.encode()).decode()}
                async with session.get(HOME, proxy=proxy, headers=auth) as resp:
                    assert resp.status == 407
            bearer = {"Authorization": f"Bearer {TOKEN}", "Host": "www.district.test"}
            async with session.get(f"{proxy}/", headers=bearer) as resp:
                assert resp.status == 200
        # a scan's fetcher, with the token in the proxy URL
        fetcher = HttpFetcher(
            user_agent="t",
            timeout=10,
            max_body=1 << 20,
            max_redirects=5,
            resolver=GovResolver({}, only=True, allow_private=True),
            proxy=f"http://govmon:{TOKEN}@127.0.0.1:{port}",
        )
        try:
            got = await fetcher.fetch(HOME)
        finally:
            await fetcher.close()
        assert got.status == 200
        assert b"</html>" in got.body.lower()


async def test_without_a_token_loopback_replays_as_before() -> None:
    with serve(make_app([RECORDING])) as port:
        async with (
            aiohttp.ClientSession() as session,
            session.get(HOME, proxy=f"http://127.0.0.1:{port}") as resp,
        ):
            assert resp.status == 200
