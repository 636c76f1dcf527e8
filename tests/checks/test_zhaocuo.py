"""The 我为政府网站找错 entry: a link by its text, title or image, a link to the national service,
the national widget; the traps: the words in running text, in a news headline, 寻找错误, and a
``sitecode`` query on an unrelated text link."""

from __future__ import annotations

import pytest
from selectolax.lexbor import LexborHTMLParser

from checks.zhaocuo import NO_ZHAOCUO, find_zhaocuo, frame_urls, judge_zhaocuo
from tests.support.paths import DEMO_SITE

HOME = "http://www.district.test/"
DEMO = DEMO_SITE


def find(body: str) -> tuple[str, str | None] | None:
    tree = LexborHTMLParser(f"<html><body>{body}</body></html>")
    entry = find_zhaocuo(tree, HOME)
    return None if entry is None else (entry.how, entry.url)


@pytest.mark.parametrize(
    ("body", "how", "url"),
    [
        (
            '<div class="footer"><a href="/zc.html">我为政府网站找错</a></div>',
            "text",
            "http://www.district.test/zc.html",
        ),
        ('<a href="/zc.html">我为 政府网站 找错</a>', "text", "http://www.district.test/zc.html"),
        ('<a href="/jc/">网站找错</a>', "text", "http://www.district.test/jc/"),
        (
            '<a href="/zc/" title="我为政府网站找错"><span></span></a>',
            "title",
            "http://www.district.test/zc/",
        ),
        (
            '<a href="/zc/" target="_blank">'
            '<img src="/images/footer_3.png" alt="我为政府网站找错"></a>',
            "alt",
            "http://www.district.test/zc/",
        ),
        (
            '<a href="https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=4407030001&amp;url=x">'
            '<img src="/images/icon.png"></a>',
            "url",
            "https://zfwzgl.www.gov.cn/exposure/jiucuo.html?site_code=4407030001&url=x",
        ),
        (
            '<a href="http://ext.test/zhaocuo/?sitecode=0000000000">纠错</a>',
            "url",
            "http://ext.test/zhaocuo/?sitecode=0000000000",
        ),
        (
            '<a href="http://service.test/report?sitecode=4407030001"><img src="/i/a.png"></a>',
            "url",
            "http://service.test/report?sitecode=4407030001",
        ),
        (
            '<a href="javascript:void(0)" onclick="Link(\'4407030001\')">'
            '<img src="/images/jiucuo.png"></a>',
            "widget",
            None,
        ),
    ],
)
def test_the_entry_is_found(body: str, how: str, url: str | None) -> None:
    assert find(body) == (how, url)


def test_the_national_widget_script_is_the_entry() -> None:
    body = (
        '<p>页脚</p><script id="_jiucuo_" sitecode="4407030001" '
        'src="https://zfwzgl.www.gov.cn/exposure/jiucuo.js"></script>'
    )
    assert find(body) == ("widget", None)
    assert find('<img src="/images/zhaocuo.gif" onclick="openZc()">') == ("widget", None)


@pytest.mark.parametrize(
    "body",
    [
        # running text in an article, not a link
        '<div class="article"><p>为方便公众监督，我区开通了“我为政府网站找错”平台，'
        "欢迎网民积极参与。</p></div>",
        # a news headline about the campaign: a long label
        '<ul><li><a href="/xw/t20200601_1.html">关于开展“我为政府网站找错”专项活动的通知</a>'
        "</li></ul>",
        # 寻找错误 / 找错误 is not 找错
        '<a href="/jy/1.html">帮孩子寻找错题原因</a><a href="/jy/2.html">找错误</a>',
        # a sitecode query on a text link to something else
        '<a href="http://stat.test/count?sitecode=4407030001">访问统计</a>',
        # a local 纠错 page is not the national entry
        '<a href="/hdjl/jiucuo/">我要纠错</a>',
        '<img src="/images/jiucuo.png">',  # an image alone, neither linked nor clickable
    ],
)
def test_traps_are_not_the_entry(body: str) -> None:
    assert find(body) is None


def test_the_demo_home_pages_carry_the_entry() -> None:
    for host in ("www.district.test", "town.district.test"):
        page = DEMO / host / "index.html"
        tree = LexborHTMLParser(page.read_text(encoding="utf-8"))
        entry = find_zhaocuo(tree, f"http://{host}/")
        assert entry is not None, host
        assert entry.how == "text"
        assert entry.url is not None
        assert entry.url.startswith("http://ext.test/zhaocuo/?sitecode=")


def test_judge_and_frames() -> None:
    home = LexborHTMLParser(
        """<html><body><div class="main">内容</div>
        <iframe src="/footer.html"></iframe><iframe src="http://other.test/ad.html"></iframe>
        </body></html>"""
    )
    assert frame_urls(home, HOME) == ["http://www.district.test/footer.html"]
    footer = LexborHTMLParser('<a href="/zc/">我为政府网站找错</a>')
    entries = [find_zhaocuo(home, HOME), find_zhaocuo(footer, HOME + "footer.html")]
    assert entries[0] is None
    assert judge_zhaocuo(HOME, entries) is None
    missing = judge_zhaocuo(HOME, [None, None], looked_on=[HOME + "footer.html"])
    assert missing is not None
    assert missing.code == NO_ZHAOCUO
    assert missing.detail["pages"] == [HOME, HOME + "footer.html"]
