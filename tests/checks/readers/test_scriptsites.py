"""The loopback imitations of script-built platforms answer in the platforms' real shapes."""

from __future__ import annotations

import datetime as dt
import json
import urllib.error
import urllib.request

import pytest

from tests.support.scriptsites import BEIJING, SID, UNIT_ID, WEB_ID, ScriptSites

pytestmark = pytest.mark.timeout(30)


def _get(url: str, data: bytes | None = None) -> str:
    with urllib.request.urlopen(urllib.request.Request(url, data=data), timeout=5) as resp:
        body: bytes = resp.read()
    return body.decode("utf-8")


def test_platform_shapes() -> None:
    with ScriptSites() as sites:
        column = _get(sites.url("hanweb", "/col/col1201/index.html"))
        assert '<script type="text/xml"><datastore>' in column
        assert column.count("<record>") == 15
        assert "totalRecord: 40" in column
        proxy = sites.url(
            "hanweb", "/module/web/jpage/dataproxy.jsp?startrecord=16&endrecord=30&perpage=15"
        )
        form = (
            f"col=1&appid=1&webid={WEB_ID}&path=/&columnid=1201&sourceContentType=1"
            f"&unitid={UNIT_ID}&webname=x&permissiontype=0"
        ).encode()
        assert _get(proxy, form).count("<record>") == 15
        with pytest.raises(urllib.error.HTTPError):  # page 2 only by POST
            _get(proxy)
        shell = _get(sites.url("gkmlpt", "/gkmlpt/index"))
        assert f"SID: '{SID}'" in shell
        assert '<div id="app"></div>' in shell
        api = json.loads(_get(sites.url("gkmlpt", f"/gkmlpt/api/all/1201?page=1&sid={SID}")))
        assert api["total"] == 25
        assert len(api["articles"]) == 10
        first = dt.datetime.fromtimestamp(api["articles"][0]["date"], BEIJING)
        assert (first.date(), first.hour, first.minute) == (dt.date(2020, 6, 2), 0, 30)
        board = _get(sites.url("board", "/hdjl/zxzx/index.html"))
        assert "<tbody></tbody>" in board
        assert "XMLHttpRequest" in board
        letters = json.loads(_get(sites.url("board", "/api/letters")))["data"]["list"]
        assert {m["status"] for m in letters} == {"已回复", "未回复"}
        pager = _get(sites.url("pager", "/ldxx/index.html"))
        assert 'onclick="executePage(2)"' in pager
        assert "function executePage" not in pager
