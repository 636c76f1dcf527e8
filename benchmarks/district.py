"""A generated district for the benchmarks: N channel sites, each on its own loopback address.

Built from the demo district's templates (``crawler/demo/site``: the same TRS-style pages, list
markup, ``createPageHTML`` pagination, message boards, service-guide tables and policy /
interpretation cross links), scaled up and seeded. Channel ``c`` is served on ``127.0.0.{c+1}``
(the portal is channel 0, then departments, then towns); each has a home page with a search form,
its navigation, dated boxes and the 我为政府网站找错 entry, and these columns:

=========  ============  ======================================================================
folder     name          content
=========  ============  ======================================================================
gzdt       工作动态       60 articles, 3 days apart (some with a picture)
tzgg       通知公告       30 notices, a week apart
zcwj       政策文件       20 policy documents with a PDF each, linking their interpretation
zcjd       政策解读       one interpretation per interpreted document, linking it back
rsxx       人事信息       10 items a month apart
ghjh       规划计划       6 plans
bszn       办事指南       12 service guides (the 10 key elements)
yjzj       意见征集       8 calls for comments
hdjl       政务咨询       30 messages with their replies, and the board's statistics
=========  ============  ======================================================================

Lists show 20 items a page (``index.html``, ``index_1.html`` …). Problems are planted by channel
number and listed by :meth:`District.truth` (check code → subject URLs): broken links (a deleted
article still listed, a missing PDF, a missing picture, a dead 友情链接 on the portal), stale news
and notice columns, blank personnel columns, late, overdue, unanswered and incomplete replies,
policies without an interpretation, incomplete guides and typos. About 200 pages a channel.

:meth:`District.write` writes the static files (``root/h{c}/…``, for :mod:`benchmarks.nginx`),
:meth:`District.config` the govmon config for a server port.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from chinese_calendar import is_workday  # type: ignore[import-untyped]

from benchmarks.synth import IMAGE_BODY, PDF_BODY, PHRASES, _paragraph

AS_OF = dt.date(2020, 6, 16)
DISTRICT = "江滨区"
DEPARTMENTS = (
    ("fgj", "区发展和改革局"),
    ("jyj", "区教育局"),
    ("kgj", "区科技和工业信息化局"),
    ("mzj", "区民政局"),
    ("sfj", "区司法局"),
    ("czj", "区财政局"),
    ("rsj", "区人力资源和社会保障局"),
    ("zrj", "区自然资源局"),
    ("sthj", "区生态环境分局"),
    ("zjj", "区住房和城乡建设局"),
    ("jtj", "区交通运输局"),
    ("slj", "区水利局"),
    ("nyj", "区农业农村局"),
    ("swj", "区商务局"),
    ("wlj", "区文化广电旅游体育局"),
    ("wjj", "区卫生健康局"),
    ("tyj", "区退役军人事务局"),
    ("yjj", "区应急管理局"),
    ("scj", "区市场监督管理局"),
    ("tjj", "区统计局"),
)
TOWNS = (
    ("bsz", "白沙镇人民政府"),
    ("txz", "棠下镇人民政府"),
    ("htz", "荷塘镇人民政府"),
    ("drz", "杜阮镇人民政府"),
    ("hsjd", "环市街道办事处"),
    ("cljd", "潮连街道办事处"),
    ("bjjd", "北街街道办事处"),
    ("dhjd", "东湖街道办事处"),
    ("xjjd", "西江街道办事处"),
)


@dataclass(frozen=True)
class ColumnSpec:
    folder: str
    name: str
    items: int
    spacing: int  # days between items


COLUMNS = (
    ColumnSpec("gzdt", "工作动态", 60, 3),
    ColumnSpec("tzgg", "通知公告", 30, 7),
    ColumnSpec("zcwj", "政策文件", 20, 9),
    ColumnSpec("zcjd", "政策解读", 0, 0),  # one per interpreted policy document
    ColumnSpec("rsxx", "人事信息", 10, 30),
    ColumnSpec("ghjh", "规划计划", 6, 50),
    ColumnSpec("bszn", "办事指南", 12, 20),
    ColumnSpec("yjzj", "意见征集", 8, 40),
    ColumnSpec("hdjl", "政务咨询", 30, 3),
)
PER_PAGE = 20
GUIDE_ELEMENTS = (
    ("事项名称", "{title}"),
    ("设定依据", "《{district}{topic}管理办法》"),
    ("申请条件", "在本区行政区域内依法登记的申请人。"),
    ("办理材料", "申请表、身份证明材料、相关证明文件。"),
    ("办理地点", "{district}政务服务中心二楼综合窗口"),
    ("办理机构", "{unit}"),
    ("收费标准", "不收费"),
    ("办理时间", "工作日上午8:30-12:00，下午14:30-17:30"),
    ("联系电话", "0123-8888{n:04d}"),
    ("办理流程", "网上申报—窗口受理—审查—决定—送达"),
)
GUIDE_TOPICS = (
    "企业投资项目备案",
    "民办学校设立审批",
    "农村村民宅基地审批",
    "社会团体成立登记",
    "最低生活保障申请",
    "建设工程规划许可",
    "排污许可证核发",
    "道路运输经营许可",
    "取水许可审批",
    "食品经营许可",
    "公共场所卫生许可",
    "烟花爆竹经营许可",
    "退役士兵安置",
    "法律援助申请",
    "人力资源服务许可",
    "就业困难人员认定",
)
QUESTIONS = (
    "咨询{a}办理需要哪些材料",
    "关于{a}{b}的咨询",
    "请问{a}的办理时限是多久",
    "反映{a}{b}问题",
    "{a}相关政策咨询",
)
TYPO = "不忘出心、牢记使命"  # a typo from the shipped lexicon (不忘初心)


@dataclass
class Item:
    """One dated item of a column (an article, a guide, a message …)."""

    channel: int
    column: str
    index: int
    date: dt.date
    title: str
    ident: int
    missing: bool = False  # listed, but the page was deleted (a broken link)
    pdf: bool = False  # carries an attachment
    pdf_missing: bool = False
    image: bool = False
    image_missing: bool = False
    typo: bool = False
    related: Item | None = None  # policy ↔ interpretation
    guide_incomplete: bool = False
    # messages
    asked: dt.datetime | None = None
    replied: dt.datetime | None = None
    reply_unit: bool = True

    @property
    def path(self) -> str:
        """Path under the channel root, without the leading slash."""
        day = self.date.strftime("%Y%m%d")
        return f"{self.column}/{day[:6]}/t{day}_{self.ident}.html"

    @property
    def pdf_path(self) -> str:
        day = self.date.strftime("%Y%m%d")
        return f"{self.column}/{day[:6]}/P0{day}{self.ident}.pdf"

    @property
    def image_path(self) -> str:
        day = self.date.strftime("%Y%m%d")
        return f"{self.column}/{day[:6]}/W0{day}{self.ident}.jpg"


@dataclass
class Channel:
    index: int
    code: str
    unit: str
    name: str
    kind: str
    columns: dict[str, list[Item]] = field(default_factory=dict)

    @property
    def address(self) -> str:
        return f"127.0.0.{self.index + 1}"


def _workdays_between(start: dt.date, end: dt.date) -> int:
    """Working days from the day after ``start`` to ``end``, both included."""
    day, count = start, 0
    while day < end:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return count


def _after_workdays(start: dt.date, workdays: int) -> dt.date:
    """The day on which the ``workdays``-th working day after ``start`` falls."""
    day, count = start, 0
    while count < workdays:
        day += dt.timedelta(days=1)
        if is_workday(day):
            count += 1
    return day


class District:
    """The generated district; ``port`` is where it is (or was, for a recording) served."""

    def __init__(self, channels: int = 30, seed: int = 2020, port: int = 0) -> None:
        if not 1 <= channels <= 1 + len(DEPARTMENTS) + len(TOWNS):
            raise ValueError(f"channels must be 1 … {1 + len(DEPARTMENTS) + len(TOWNS)}")
        self.seed = seed
        self.port = port
        self.channels: list[Channel] = []
        units = [("portal", "区政府办公室", "portal")]
        units += [(code, unit, "department") for code, unit in DEPARTMENTS]
        units += [(code, unit, "town") for code, unit in TOWNS]
        for c in range(channels):
            code, unit, kind = units[c]
            if kind == "portal":
                name = f"{DISTRICT}人民政府门户网站"
            elif kind == "town":
                name = f"{DISTRICT}{unit}"
            else:
                name = f"{DISTRICT}{unit[1:]}"
            channel = Channel(c, code, unit, name, kind)
            self._fill(channel)
            self.channels.append(channel)

    # ---- the plan ---------------------------------------------------------------------------

    def _fill(self, ch: Channel) -> None:
        rng = random.Random(self.seed * 7919 + ch.index)
        c = ch.index
        pairs = [(a, b) for a in PHRASES for b in PHRASES if a != b]
        rng.shuffle(pairs)
        topics = iter(pairs)

        def dated(spec: ColumnSpec, first: int) -> Iterator[tuple[int, dt.date]]:
            for i in range(spec.items):
                jitter = rng.randint(0, max(0, spec.spacing // 3))
                yield i, AS_OF - dt.timedelta(days=first + i * spec.spacing + jitter)

        def ident(col: int, i: int) -> int:
            return 3_000_000 + c * 10_000 + col * 1_000 + i

        # 工作动态: stale on channels 3, 10, 17, 24 (newest 40 days old)
        spec = COLUMNS[0]
        news: list[Item] = []
        for i, day in dated(spec, 40 if c % 7 == 3 else 1 + rng.randint(0, 2)):
            a, b = next(topics)
            title = f"{ch.unit.removeprefix('区')}开展{a}{b}工作"
            news.append(
                Item(
                    c,
                    spec.folder,
                    i,
                    day,
                    title,
                    ident(0, i),
                    image=i % 3 == 0,
                    missing=(c % 3 == 1 and i == 7),
                    image_missing=(c % 5 == 1 and i == 3),
                    typo=(c % 8 == 3 and i == 4),
                )
            )
        ch.columns[spec.folder] = news
        # 通知公告: stale on channels 4, 15, 26 (newest 200 days old)
        spec = COLUMNS[1]
        ch.columns[spec.folder] = [
            Item(c, spec.folder, i, day, f"关于做好{a}{b}工作的通知", ident(1, i))
            for (i, day), (a, b) in zip(
                dated(spec, 200 if c % 11 == 4 else 2 + rng.randint(0, 3)), topics, strict=False
            )
        ]
        # 政策文件 and 政策解读; channels 0, 3, 6 … leave every 7th document uninterpreted
        spec = COLUMNS[2]
        policies: list[Item] = []
        interpretations: list[Item] = []
        for i, day in dated(spec, 3 + rng.randint(0, 4)):
            a, b = next(topics)
            doc = f"{DISTRICT}{ch.unit.removeprefix('区')}{a}{b}管理办法"
            issuer = DISTRICT + ch.unit.removeprefix("区")
            policy = Item(
                c,
                "zcwj",
                i,
                day,
                f"{issuer}关于印发《{doc}》的通知",
                ident(2, i),
                pdf=True,
                pdf_missing=(c % 4 == 0 and i == 5),
            )
            policies.append(policy)
            if c % 3 == 0 and i % 7 == 6:
                continue
            interp = Item(
                c,
                "zcjd",
                len(interpretations),
                day + dt.timedelta(days=1),
                f"《{doc}》解读",
                ident(3, i),
                related=policy,
            )
            policy.related = interp
            interpretations.append(interp)
        ch.columns["zcwj"] = policies
        ch.columns["zcjd"] = interpretations
        # 人事信息: blank on channels 5, 15, 25
        spec = COLUMNS[4]
        ch.columns[spec.folder] = (
            []
            if c % 10 == 5
            else [
                Item(
                    c,
                    spec.folder,
                    i,
                    day,
                    f"{ch.unit.removeprefix('区')}{a}{b}岗位人员公示",
                    ident(4, i),
                )
                for (i, day), (a, b) in zip(dated(spec, 5), topics, strict=False)
            ]
        )
        spec = COLUMNS[5]
        ch.columns[spec.folder] = [
            Item(c, spec.folder, i, day, f"{DISTRICT}{a}{b}工作计划", ident(5, i))
            for (i, day), (a, b) in zip(dated(spec, 10), topics, strict=False)
        ]
        # 办事指南: guides 2 and 7 incomplete on channels 2, 6, 10 …
        spec = COLUMNS[6]
        ch.columns[spec.folder] = [
            Item(
                c,
                spec.folder,
                i,
                day,
                f"{GUIDE_TOPICS[(c + i) % len(GUIDE_TOPICS)]}办事指南",
                ident(6, i),
                guide_incomplete=(c % 4 == 2 and i in (2, 7)),
            )
            for i, day in dated(spec, 15)
        ]
        spec = COLUMNS[7]
        ch.columns[spec.folder] = [
            Item(
                c,
                spec.folder,
                i,
                day,
                f"关于公开征求《{DISTRICT}{a}{b}实施意见》意见的公告",
                ident(7, i),
            )
            for (i, day), (a, b) in zip(dated(spec, 8), topics, strict=False)
        ]
        ch.columns["hdjl"] = self._messages(ch, rng, topics)

    def _messages(
        self,
        ch: Channel,
        rng: random.Random,
        topics: Iterator[tuple[str, str]],
    ) -> list[Item]:
        c = ch.index
        spec = COLUMNS[8]
        items: list[Item] = []
        for i in range(spec.items):
            a, b = next(topics)
            title = QUESTIONS[(i + c) % len(QUESTIONS)].format(a=a, b=b)
            asked_day = AS_OF - dt.timedelta(days=1 + i * spec.spacing + rng.randint(0, 1))
            asked = dt.datetime.combine(
                asked_day, dt.time(9 + rng.randint(0, 9), rng.randint(0, 59))
            )
            item = Item(
                c, "hdjl", i, asked_day, title, 3_000_000 + c * 10_000 + 8_000 + i, asked=asked
            )
            unanswered = i == 0 or (i == 4 and c % 5 == 2)  # i 4: message.overdue
            if not unanswered:
                late = i == 12 and c % 4 == 1
                reply_day = _after_workdays(asked_day, 9 if late else 1 + rng.randint(0, 2))
                if reply_day < AS_OF:
                    item.replied = dt.datetime.combine(reply_day, dt.time(16, rng.randint(0, 59)))
                    item.reply_unit = not (i == 8 and c % 6 == 5)
            items.append(item)
        if c in (7, 19):  # an old message never answered: message.unanswered (a veto)
            asked = dt.datetime(2020, 2, 20, 10, 5)
            items.append(
                Item(
                    c,
                    "hdjl",
                    len(items),
                    asked.date(),
                    "反映小区供水管网老化问题",
                    3_000_000 + c * 10_000 + 8_900,
                    asked=asked,
                )
            )
        return items

    # ---- addressing -------------------------------------------------------------------------

    def origin(self, c: int) -> str:
        return f"http://{self.channels[c].address}:{self.port}"

    def home(self, c: int) -> str:
        return self.origin(c) + "/"

    def url(self, c: int, path: str) -> str:
        return f"{self.origin(c)}/{path.lstrip('/')}"

    # ---- ground truth -----------------------------------------------------------------------

    def truth(self) -> dict[str, set[str]]:
        """The planted problems: check code → subject URLs (as :meth:`url` spells them)."""
        out: dict[str, set[str]] = {}

        def add(code: str, url: str) -> None:
            out.setdefault(code, set()).add(url)

        if self.channels:
            add("link.broken", self.url(0, "old/wsbs/index.html"))
        for ch in self.channels:
            c = ch.index
            cols = ch.columns
            for item in cols["gzdt"]:
                if item.missing:
                    add("link.broken", self.url(c, item.path))
                if item.image_missing:
                    add("link.broken", self.url(c, item.image_path))
                if item.typo and not item.missing:
                    add("content.typo", self.url(c, item.path))
            newest_news = max(i.date for i in cols["gzdt"])
            if (AS_OF - newest_news).days > 14:
                add("column.stale", self.url(c, "gzdt/"))
            if (AS_OF - max(i.date for i in cols["tzgg"])).days > 183:
                add("column.stale", self.url(c, "tzgg/"))
            if not cols["rsxx"]:
                add("column.blank", self.url(c, "rsxx/"))
            for item in cols["zcwj"]:
                if item.pdf_missing:
                    add("link.broken", self.url(c, item.pdf_path))
                if item.related is None:
                    add("policy.no_interpretation", self.url(c, item.path))
            for item in cols["bszn"]:
                if item.guide_incomplete:
                    add("service.guide_incomplete", self.url(c, item.path))
            for item in cols["hdjl"]:
                assert item.asked is not None
                url = self.url(c, item.path)
                if item.replied is None:
                    waited = _workdays_between(item.asked.date(), AS_OF - dt.timedelta(days=1))
                    if (AS_OF - item.asked.date()).days > 90:
                        add("message.unanswered", url)
                    elif waited > 5:
                        add("message.overdue", url)
                    continue
                if _workdays_between(item.asked.date(), item.replied.date()) > 5:
                    add("message.late_reply", url)
                if not item.reply_unit:
                    add("message.incomplete", url)
        return out

    # ---- the config -------------------------------------------------------------------------

    def config(self, concurrency: int, max_pages: int = 100_000) -> str:
        lines = [
            "# generated by benchmarks.district",
            f"as_of = {AS_OF.isoformat()}",
            'timezone = "Asia/Shanghai"',
            "",
            "[crawl]",
            "rate = 0",
            f"concurrency = {concurrency}",
            f"workers = {concurrency}",
            "allow_private = true",
            "resolve_only = true",
            "recheck_delay = 1",
            'robots = "ignore"',
            f"max_pages = {max_pages}",
            f"max_depth = {max_pages}",
            "",
        ]
        for ch in self.channels:
            lines += [
                "[[site]]",
                f'id = "{ch.code}"',
                f'name = "{ch.name}"',
                f'unit = "{ch.unit if ch.kind != "portal" else "区政府办公室"}"',
                f'kind = "{ch.kind}"',
                f'url = "{self.home(ch.index)}"',
                "",
            ]
        return "\n".join(lines)

    # ---- pages ------------------------------------------------------------------------------

    def write(self, root: Path) -> tuple[int, int]:
        """Every page and file of the district under ``root/h{c}``; (files, bytes)."""
        files = 0
        size = 0
        for ch in self.channels:
            base = root / f"h{ch.index}"
            for path, body in self._files(ch):
                target = base / path
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(body)
                files += 1
                size += len(body)
        return files, size

    def _files(self, ch: Channel) -> Iterator[tuple[str, bytes]]:
        c = ch.index
        yield "images/logo.png", IMAGE_BODY
        yield "css/style.css", b"body{margin:0;font:14px SimSun}\n.w{width:1000px;margin:0 auto}\n"
        yield "js/common.js", b"function addFavorite(){}\n" + _PAGER_JS
        yield "index.html", self._home(ch)
        yield "search/index.html", self._search(ch)
        if c == 0:
            yield "zhaocuo/index.html", self._page(ch, 1, "我为政府网站找错", "<p>请描述问题。</p>")
        for spec in COLUMNS:
            items = ch.columns[spec.folder]
            pages = max(1, -(-len(items) // PER_PAGE))
            for p in range(pages):
                name = "index.html" if p == 0 else f"index_{p}.html"
                chunk = items[p * PER_PAGE : (p + 1) * PER_PAGE]
                yield f"{spec.folder}/{name}", self._list(ch, spec, chunk, p, pages)
            for item in items:
                if item.missing:
                    continue
                yield item.path, self._item(ch, spec, item)
                if item.pdf and not item.pdf_missing:
                    yield item.pdf_path, PDF_BODY
                if item.image and not item.image_missing:
                    yield item.image_path, IMAGE_BODY

    def _nav(self, prefix: str) -> str:
        cells = [f'<li><a href="{prefix}">首页</a></li>']
        cells += [f'<li><a href="{prefix}{s.folder}/">{s.name}</a></li>' for s in COLUMNS]
        return '<div class="nav"><div class="w"><ul>\n' + "\n".join(cells) + "\n</ul></div></div>\n"

    def _page(self, ch: Channel, depth: int, title: str, main: str, meta: str = "") -> bytes:
        prefix = "../" * depth if depth else "./"
        portal = self.home(0)
        head = (
            '<!DOCTYPE html>\n<html lang="zh-CN">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}_{ch.name}</title>\n"
            f'<meta name="SiteName" content="{ch.name}">\n'
            f'<meta name="SiteDomain" content="{ch.address}">\n'
            '<meta name="SiteIDCode" content="0000000000">\n'
            f"{meta}"
            '<link rel="stylesheet" href="/css/style.css">\n'
            '<script src="/js/common.js"></script>\n</head>\n<body>\n'
            f'<div class="topbar"><div class="w"><a href="{portal}">{DISTRICT}人民政府门户网站</a>'
            ' | <a href="javascript:void(0)" onclick="addFavorite()">加入收藏</a>'
            ' | <a href="#" id="wza">无障碍浏览</a></div></div>\n'
            f'<div class="header"><div class="w"><a href="{prefix}"><img src="/images/logo.png"'
            f' alt="{ch.name}" width="420" height="60"></a></div></div>\n'
        )
        foot = (
            '<div class="footer"><div class="w">\n'
            f"<p>主办单位：{ch.name}　承办单位：{ch.unit.removeprefix('区')}办公室"
            "　联系电话：0123-88880000</p>\n"
            "<p>网站标识码：0000000000　某ICP备00000000号-1　某公网安备 00000000000000号</p>\n"
            '<p><a href="#top">返回顶部</a></p>\n</div></div>\n</body>\n</html>\n'
        )
        return (
            head + self._nav(prefix) + '<div class="w main">\n' + main + "</div>\n" + foot
        ).encode()

    def _box(self, folder: str, name: str, items: list[Item]) -> str:
        rows = "\n".join(
            f'<li><a href="./{i.path}" target="_blank">{i.title}</a>'
            f'<span class="date">{i.date.isoformat()}</span></li>'
            for i in items
        )
        return (
            f'<div class="box"><div class="box-hd"><h3><a href="./{folder}/">{name}</a></h3>'
            f'<a class="more" href="./{folder}/">更多&gt;&gt;</a></div>\n'
            f'<ul class="list">\n{rows}\n</ul></div>\n'
        )

    def _home(self, ch: Channel) -> bytes:
        cols = ch.columns
        search = (
            '<div class="search"><form action="/search/" method="get" name="searchform">'
            '<input type="text" name="q" placeholder="请输入关键字"><button type="submit">搜索'
            "</button></form></div>\n"
        )
        boxes = (
            '<div class="row">\n'
            + self._box("gzdt", "工作动态", cols["gzdt"][:6])
            + self._box("tzgg", "通知公告", cols["tzgg"][:6])
            + '</div>\n<div class="row">\n'
            + self._box("zcwj", "政策文件", cols["zcwj"][:5])
            + self._box("hdjl", "政务咨询", cols["hdjl"][:5])
            + "</div>\n"
        )
        links = ['<div class="row links"><h3>友情链接</h3><ul>']
        if ch.index == 0:
            links.append("<h3>部门和镇街网站</h3>")
            links += [
                f'<li><a href="{self.home(other.index)}" target="_blank">{other.name}</a></li>'
                for other in self.channels[1:]
            ]
            links.append(
                f'<li><a href="{self.url(0, "old/wsbs/index.html")}" target="_blank">'
                "网上办事大厅（旧版）</a></li>"
            )
        else:
            links.append(f'<li><a href="{self.home(0)}">{DISTRICT}人民政府门户网站</a></li>')
        links.append("</ul>")
        zhaocuo = self.url(0, f"zhaocuo/?sitecode=0000000000&amp;site={ch.code}")
        links.append(
            f'<p><a href="{zhaocuo}" target="_blank">我为政府网站找错</a>'
            '　<a href="mailto:webmaster@district.test">联系我们</a></p></div>\n'
        )
        meta = '<meta name="ColumnName" content="首页">\n'
        return self._page(ch, 0, "首页", search + boxes + "\n".join(links), meta)

    def _search(self, ch: Channel) -> bytes:
        """A static results page (nginx ignores the query): the newest items, by category."""
        tabs = (
            '<div class="search-tabs"><ul class="tabs"><li class="on">全部(30)</li>'
            "<li>信息公开(12)</li><li>政策文件(8)</li><li>办事服务(10)</li></ul></div>\n"
        )
        newest = sorted(
            (i for items in ch.columns.values() for i in items if not i.missing),
            key=lambda i: i.date,
            reverse=True,
        )[:30]
        rows = "\n".join(
            f'<li><a href="../{i.path}" target="_blank">{i.title}</a>'
            f'<span class="date">{i.date.isoformat()}</span></li>'
            for i in newest
        )
        main = (
            '<div class="search"><form action="/search/" method="get">'
            '<input type="text" name="q"><button type="submit">搜索</button></form></div>\n'
            + tabs
            + f'<ul class="results">\n{rows}\n</ul>\n'
        )
        return self._page(ch, 1, "站内搜索", main)

    def _list(
        self, ch: Channel, spec: ColumnSpec, items: list[Item], page: int, pages: int
    ) -> bytes:
        position = (
            '<div class="position">当前位置：<a href="../">首页</a> &gt; '
            f'<a href="./">{spec.name}</a></div>\n'
        )
        if spec.folder == "hdjl":
            answered = sum(1 for i in ch.columns["hdjl"] if i.replied is not None)
            total = len(ch.columns["hdjl"])
            rows = "\n".join(
                f'<tr><td>{n + 1 + page * PER_PAGE}</td><td class="t"><a href="./{i.path[5:]}"'
                f' target="_blank">{i.title}</a></td><td>{i.date.isoformat()}</td>'
                f"<td>{i.replied.date().isoformat() if i.replied else ''}</td>"
                f"<td>{'已回复' if i.replied else '未回复'}</td></tr>"
                for n, i in enumerate(items)
            )
            body = (
                '<div class="board-tools"><a href="javascript:void(0)">我要留言</a></div>\n'
                f'<p class="stats">2020年1月至6月，共收到咨询留言{total}件，'
                f"已答复{answered}件。</p>\n"
                '<table class="board">\n<tr><th>序号</th><th>留言标题</th><th>留言时间</th>'
                f"<th>答复时间</th><th>状态</th></tr>\n{rows}\n</table>\n"
            )
        elif not items:
            body = '<ul class="list">\n<li class="empty">暂无信息</li>\n</ul>\n'
        else:
            rows = "\n".join(
                f'<li><a href="./{i.path.split("/", 1)[1]}" target="_blank" title="{i.title}">'
                f'{i.title}</a><span class="date">{i.date.isoformat()}</span></li>'
                for i in items
            )
            body = f'<ul class="list">\n{rows}\n</ul>\n'
        pager = (
            f'<div class="page"><script>createPageHTML({pages}, {page}, "index", "html");'
            "</script></div>\n"
        )
        main = (
            position
            + f'<div class="col-box">\n<h2 class="col-title">{spec.name}</h2>\n'
            + body
            + pager
            + "</div>\n"
        )
        meta = f'<meta name="ColumnName" content="{spec.name}">\n'
        return self._page(ch, 1, spec.name, main, meta)

    def _item(self, ch: Channel, spec: ColumnSpec, item: Item) -> bytes:
        rng = random.Random(item.ident * 31 + self.seed)
        stamp = f"{item.date.isoformat()} {9 + item.ident % 8:02d}:{item.ident % 60:02d}"
        meta = (
            f'<meta name="ArticleTitle" content="{item.title}">\n'
            f'<meta name="PubDate" content="{stamp}">\n'
            f'<meta name="ContentSource" content="{ch.unit}">\n'
            f'<meta name="ColumnName" content="{spec.name}">\n'
        )
        position = (
            '<div class="position">当前位置：<a href="../../">首页</a> &gt; '
            f'<a href="../">{spec.name}</a> &gt; 正文</div>\n'
        )
        if spec.folder == "hdjl":
            return self._page(ch, 2, item.title, position + self._message(ch, item), meta)
        if spec.folder == "bszn":
            content = self._guide(ch, item)
        else:
            paragraphs = [_paragraph(rng) for _ in range(6)]
            if item.typo:
                paragraphs.insert(2, f"全区上下要{TYPO}，扎实推进各项工作。")
            if spec.folder == "zcwj":
                paragraphs.insert(0, f"滨{ch.code}〔2020〕{item.index + 1}号")
            content = "\n".join(f"<p>{p}</p>" for p in paragraphs)
            if item.image:
                content += f'\n<p><img src="./{item.image_path.rsplit("/", 1)[1]}" alt="图片"></p>'
        extra = ""
        if item.pdf:
            extra += (
                '<div class="attach">附件：<ul><li><a href="./'
                f'{item.pdf_path.rsplit("/", 1)[1]}" target="_blank">1. {item.title}.pdf</a>'
                "</li></ul></div>\n"
            )
        if item.related is not None:
            label = "政策解读" if spec.folder == "zcwj" else "原文"
            extra += (
                f'<div class="related">相关链接：<ul><li><a href="../../{item.related.path}"'
                f' target="_blank">{label}：{item.related.title}</a></li></ul></div>\n'
            )
        main = (
            position
            + f'<div class="article">\n<h1 class="title">{item.title}</h1>\n'
            + f'<div class="info">发布时间：{stamp}　来源：{ch.unit}　'
            + '<a href="javascript:window.print()">【打印本页】</a></div>\n'
            + f'<div class="content TRS_Editor">\n{content}\n</div>\n'
            + extra
            + "</div>\n"
        )
        return self._page(ch, 2, item.title, main, meta)

    def _guide(self, ch: Channel, item: Item) -> str:
        topic = item.title.removesuffix("办事指南")
        rows = []
        for n, (label, value) in enumerate(GUIDE_ELEMENTS):
            if item.guide_incomplete and n >= 5:
                break
            text = value.format(
                title=topic, district=DISTRICT, topic=topic, unit=ch.unit, n=item.ident % 10_000
            )
            rows.append(f"<tr><th>{label}</th><td>{text}</td></tr>")
        return '<table class="guide">\n' + "\n".join(rows) + "\n</table>"

    def _message(self, ch: Channel, item: Item) -> str:
        assert item.asked is not None
        rows = [
            ("留言标题", item.title),
            ("留言人", "网友"),
            ("留言时间", item.asked.strftime("%Y-%m-%d %H:%M")),
            ("留言内容", f"请问{item.title}，谢谢！"),
            ("办理状态", "已回复" if item.replied else "未回复"),
        ]
        if item.replied is not None:
            if item.reply_unit:
                rows.append(("答复单位", ch.unit))
            rows.append(("答复时间", item.replied.strftime("%Y-%m-%d %H:%M")))
            rows.append(
                ("答复内容", "您好！您反映的问题已收悉，相关事项请按规定办理。感谢您的来信。")
            )
        table = "\n".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
        return f'<div class="letter"><table class="letter-detail">\n{table}\n</table></div>\n'


_PAGER_JS = b"""function createPageHTML(n, i, name, ext) {
  if (n <= 1) return;
  for (var k = 0; k < n; k++) {
    var href = k == 0 ? name + "." + ext : name + "_" + k + "." + ext;
    var label = k + 1;
    var link = '<a href="' + href + '">' + label + "</a>";
    document.write(k == i ? "<span>" + label + "</span>" : link);
  }
}
"""
