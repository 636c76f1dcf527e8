"""Hidden links (暗链): every way of hiding, inline or by simple style rules, counted only when
the link leaves the site; visible links, hidden links to the site itself and near misses are
not findings."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from selectolax.lexbor import LexborHTMLParser

from checks.hidden import StyleSheet, hidden_links, hiding_reason, parse_declarations
from tests.support.realdata import manifest, needs_realdata
from tests.support.strategies import RANDOM_MARKUP

PAGE = "http://www.district.test/fgj/index.html"
SCOPE = ["http://www.district.test/fgj/"]


def found(body: str, head: str = "", trusted: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    tree = LexborHTMLParser(f"<html><head>{head}</head><body>{body}</body></html>")
    return [(h.url, h.reason) for h in hidden_links(tree, PAGE, SCOPE, trusted_hosts=trusted)]


SPAM = "http://bc.spam.test/"


@pytest.mark.parametrize(
    ("style", "reason"),
    [
        ("display:none", "display:none"),
        ("DISPLAY: NONE !important", "display:none"),
        ("visibility:hidden", "visibility:hidden"),
        ("opacity:0", "opacity:0"),
        ("position:absolute;top:-9999px", "position:absolute;top:-9999px"),
        ("position:fixed; left:-999px", "position:fixed;left:-999px"),
        ("position:absolute;left:-100em", "position:absolute;left:-100em"),
        ("position:relative;left:-9999px", "position:relative;left:-9999px"),
        ("font-size:0", "font-size:0"),
        ("font-size:0px", "font-size:0px"),
        ("font-size:1px", "font-size:1px"),
        ("height:0;overflow:hidden", "height:0;overflow:hidden"),
        ("width:1px;overflow:hidden", "width:1px;overflow:hidden"),
        ("text-indent:-9999px", "text-indent:-9999px"),
        ("margin-left:-2000px", "margin-left:-2000px"),
        ("position:absolute;clip:rect(0 0 0 0)", "clip:rect(0 0 0 0)"),
        ("position:absolute;clip:rect(1px,1px,1px,1px)", "clip:rect(0 0 0 0)"),
    ],
)
def test_inline_hiding(style: str, reason: str) -> None:
    body = f'<div style="{style}"><p><a href="{SPAM}">六合彩</a></p></div>'
    assert found(body) == [(SPAM, reason)]


@pytest.mark.parametrize(
    "style",
    [
        "display:block",
        "position:absolute;top:-10px",  # a dropdown nudged up, on screen
        "left:-9999px",  # offsets do nothing without a position
        "height:0",  # without overflow:hidden the content still shows
        "overflow:hidden;height:200px",
        "font-size:12px",
        "text-indent:2em",
        "opacity:0.8",
        "position:absolute;clip:rect(0 200px 100px 0)",
    ],
)
def test_near_misses_are_visible(style: str) -> None:
    assert found(f'<div style="{style}"><a href="{SPAM}">链接</a></div>') == []


def test_style_rules_with_simple_selectors() -> None:
    head = """<style>
    /* planted */ #yc { display : none }
    .hide-links, .x9 { position:absolute; top:-5000px; }
    div.tiny { font-size: 0 }
    .a.b { visibility: hidden }
    @media screen { .m { text-indent: -9999px } }
    .nav li a:hover { display:none }
    div > p { display:none }
    </style>"""
    body = f"""
    <div id="yc"><a href="{SPAM}1">一</a></div>
    <div class="x9"><a href="{SPAM}2">二</a></div>
    <div class="tiny other"><a href="{SPAM}3">三</a></div>
    <span class="tiny"><a href="http://visible.test/">可见：span 不是 div</a></span>
    <div class="a b"><a href="{SPAM}4">四</a></div>
    <div class="a"><a href="http://visible.test/a">可见：只有 a</a></div>
    <div class="m"><a href="{SPAM}5">五</a></div>
    <div class="nav"><ul><li><a href="http://www.gov.cn/">中国政府网</a></li></ul></div>
    <div><p><a href="http://visible.test/p">可见：复合选择器不读</a></p></div>
    """
    assert found(body, head) == [
        (f"{SPAM}1", "display:none"),
        (f"{SPAM}2", "position:absolute;top:-5000px"),
        (f"{SPAM}3", "font-size:0"),
        (f"{SPAM}4", "visibility:hidden"),
        (f"{SPAM}5", "text-indent:-9999px"),
    ]


def test_inline_style_wins_over_rules() -> None:
    head = "<style>.box{display:none}</style>"
    assert found(f'<div class="box" style="display:block"><a href="{SPAM}">x</a></div>', head) == []
    head = "<style>.box{display:block}</style>"
    body = f'<div class="box" style="display:none"><a href="{SPAM}">x</a></div>'
    assert found(body, head) == [(SPAM, "display:none")]


def test_tiny_marquee() -> None:
    body = f'<marquee height="1" scrollamount="9999"><a href="{SPAM}">彩票</a></marquee>'
    assert found(body) == [(SPAM, "marquee height:1")]
    body = f'<marquee style="height:2px"><a href="{SPAM}">彩票</a></marquee>'
    assert found(body) == [(SPAM, "marquee height:2px")]
    # an ordinary scrolling news strip is visible
    body = f'<marquee height="30" width="600"><a href="{SPAM}">通知</a></marquee>'
    assert found(body) == []


def test_hidden_attribute() -> None:
    assert found(f'<div hidden><a href="{SPAM}">x</a></div>') == [(SPAM, "hidden attribute")]


def test_hidden_links_to_the_site_itself_are_not_findings() -> None:
    body = """<div style="position:absolute;left:-9999px">
      <a href="#main">跳到主要内容</a><a href="/fgj/wza.html">无障碍</a>
      <a href="http://www.district.test/fgj/sitemap.html">网站地图</a></div>
      <ul class="sub" style="display:none"><li><a href="./zwdt/">政务动态</a></li></ul>"""
    assert found(body) == []


def test_visible_off_site_links_are_not_findings() -> None:
    body = '<div class="yqlj"><a href="http://www.gov.cn/">中国政府网</a></div>'
    assert found(body) == []


def test_trusted_hosts_and_one_finding_per_target() -> None:
    body = f"""<div style="display:none"><a href="http://www.gd.gov.cn/">广东省政府</a>
    <a href="{SPAM}">一</a><a href="{SPAM}">二</a></div>"""
    assert found(body, trusted=("gov.cn",)) == [(SPAM, "display:none")]
    assert [u for u, _ in found(body)] == ["http://www.gd.gov.cn/", SPAM]


def test_government_and_furniture_hosts_are_trusted_by_default() -> None:
    html = f"""<html><body><div class="tab2" style="display:none">
    <a href="http://www.gd.gov.cn/">广东省人民政府</a><a href="https://www.gov.cn/">中国政府网</a>
    <a href="http://bszs.conac.cn/sitename?id=1">党政机关</a>
    <a href="https://pucha.kaipuyun.cn/exposure/jiucuo.html">我为政府网站找错</a>
    <a href="{SPAM}">六合彩</a></div></body></html>"""
    got = hidden_links(LexborHTMLParser(html), PAGE, SCOPE)
    assert [h.url for h in got] == [SPAM]


def test_a_target_also_linked_visibly_is_not_hidden() -> None:
    # a mobile-only copy of the footer, hidden on the desktop page
    body = """<div class="pc-foot"><a href="http://www.beian.test/record?code=1">公网安备</a></div>
    <div class="m-foot" style="display:none"><a href="http://www.beian.test/record?code=1">
    公网安备</a><a href="http://www.spam.test/">博彩</a></div>"""
    assert found(body) == [("http://www.spam.test/", "display:none")]


def test_media_queries_with_conditions_do_not_hide() -> None:
    head = """<style>
    @charset "utf-8";
    @media (max-width: 768px) { .pc { display: none } }
    @media print { .noprint { display: none } }
    @media screen and (min-width: 1200px) { .small { display: none } }
    @media only screen { .s { display: none } }
    @font-face { font-family: x; src: url(x.woff) }
    @keyframes k { from { opacity: 0 } to { opacity: 1 } }
    .after { font-size: 0 }
    </style>"""
    body = f"""<div class="pc"><a href="{SPAM}1">1</a></div>
    <div class="noprint"><a href="{SPAM}2">2</a></div>
    <div class="small"><a href="{SPAM}3">3</a></div>
    <div class="s"><a href="{SPAM}4">4</a></div>
    <div class="after"><a href="{SPAM}5">5</a></div>"""
    assert found(body, head) == [(f"{SPAM}4", "display:none"), (f"{SPAM}5", "font-size:0")]


def test_declarations_and_reasons() -> None:
    assert parse_declarations("Display : None ; color:red;;bad") == {
        "display": "none",
        "color": "red",
    }
    assert hiding_reason({}) is None
    assert hiding_reason({"opacity": "x"}) is None
    assert hiding_reason({"font-size": "large"}) is None
    sheet = StyleSheet.from_css("p{color:red} #a{display:none} a{font-size:0}")
    assert len(sheet.rules) == 3


@needs_realdata
def test_a_real_government_page_with_hidden_tabs_and_a_mobile_footer() -> None:
    """nmg.gov.cn hides tab panels, a mobile footer and toolbars with display:none; every
    hidden off-site target there is also linked visibly, so nothing is a 暗链."""
    real = next(p for p in manifest() if p.path.stem.startswith("d232c5df"))
    tree = LexborHTMLParser(real.path.read_text(encoding="utf-8"))
    scope = ["http://example.test/"]
    assert hidden_links(tree, "http://example.test/a.html", scope, trusted_hosts=()) == []
    # the page does hide off-site links
    hiding = [n for n in tree.css("[style]") if "none" in (n.attributes.get("style") or "")]
    assert any(
        (a.attributes.get("href") or "").startswith("http") for n in hiding for a in n.css("a")
    )


HTML = RANDOM_MARKUP


@settings(max_examples=200, deadline=None)
@given(HTML)
def test_any_markup_reads_without_error(html: str) -> None:
    for link in hidden_links(LexborHTMLParser(html), PAGE, SCOPE):
        assert link.url.startswith("http://x.test/")
