"""A deterministic synthetic government site spread over several loopback hosts.

Every page is generated on the fly from its path, so the site can have a million URLs without
a single file. Page ``pid`` (0 ≤ pid < N) lives on host ``pid % H``; pages ``0 … H-1`` are the
hosts' home pages (path ``/``), every other page is a TRS-style article
``/col{c}/{YYYYMM}/t{YYYYMMDD}_{pid}.html``. Each page is about 9 KB of UTF-8 HTML with 36 links:

* 30 page links: the page's own home, the next host's home (so every home reaches every other
  one), previous and next article, the page's children in an 8-ary tree rooted at page 0 (so
  the whole site is reachable from any home page, in a few hops), then seeded random pages;
  links to another host are absolute, links on the same host root-relative;
* 3 images (the host's logo and two article pictures), 1 PDF attachment, 1 stylesheet;
* one ``#top`` anchor.

Broken targets (404), drawn per page from a seeded generator (about 600 for 5,000 pages):
links to deleted articles (ids ≥ N, shared between pages), deleted article pictures (one
page each), an old banner missing on every host (shared), deleted PDF attachments (one page
each). `ground_truth` counts them without rendering a page.

Run ``python -m benchmarks.synth serve --pages N --hosts H`` to serve it (one aiohttp server
listening on 127.0.0.1 … 127.0.0.H, same port; it prints one JSON line once ready), or
``python -m benchmarks.synth truth ...`` for the ground truth. ``GET /_bench/stats`` on any
host returns the server's request counters (not counted themselves).
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import random
import re
import signal
import socket
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import uvloop
from aiohttp import web

MASK64 = (1 << 64) - 1
TREE_BRANCHING = 8
PAGE_LINKS = 30
TARGET_PAGE_BYTES = 9000
BASE_DATE = dt.date(2020, 6, 16)

# Per-page probabilities of each kind of broken link (tuned for ~0.12 broken targets per page).
P_MISSING_PAGE = 0.08  # a link to a deleted article, drawn from a shared pool
MISSING_PAGE_POOL = 0.05  # pool size as a fraction of N
P_MISSING_IMAGE = 0.045  # the second article picture is gone
P_MISSING_BANNER = 0.02  # the host-wide old banner instead of the logo (one per host)
P_MISSING_PDF = 0.035  # the attachment is gone

LOGO_PATH = "/images/logo.png"
BANNER_PATH = "/images/banner_2019.jpg"  # never exists
CSS_PATH = "/css/common.css"
STATS_PATH = "/_bench/stats"
RESOURCE_SUFFIXES = (".jpg", ".png", ".pdf", ".css")

ARTICLE_RE = re.compile(r"/col(\d+)/(\d{6})/t(\d{8})_(\d+)\.html")
IMAGE_RE = re.compile(r"/col(\d+)/(\d{6})/W0(\d{8})_(\d+)_(\d)\.jpg")
PDF_RE = re.compile(r"/col(\d+)/(\d{6})/P0(\d{8})_(\d+)_(\d)\.pdf")

PHRASES = (
    "区政府",
    "常务会议",
    "工作部署",
    "贯彻落实",
    "高质量发展",
    "营商环境",
    "持续优化",
    "乡村振兴",
    "疫情防控",
    "安全生产",
    "民生实事",
    "政务服务",
    "一网通办",
    "重点项目",
    "招商引资",
    "生态环境",
    "城市更新",
    "基层治理",
    "公共服务",
    "重点任务",
    "专项整治",
    "督查检查",
    "统筹推进",
    "各镇街",
    "有关部门",
    "责任单位",
    "依法行政",
    "信息公开",
    "财政预算",
    "社会保障",
    "就业创业",
    "教育事业",
    "医疗卫生",
    "文化旅游",
    "交通运输",
    "农业农村",
    "市场监管",
    "应急管理",
    "自然资源",
    "住房保障",
    "科技创新",
    "人才引进",
    "产业升级",
    "数字政府",
    "防汛防台",
    "森林防火",
    "河长制",
    "垃圾分类",
    "文明城市",
    "群众满意度",
    "工作方案",
    "实施意见",
    "进一步加强",
    "扎实做好",
    "全面提升",
    "切实保障",
    "认真组织",
    "及时报送",
    "广泛宣传",
    "稳步实施",
)
TITLE_FORMS = (
    "关于{0}{1}的通知",
    "{0}召开{1}工作会议",
    "{0}{1}实施方案",
    "关于做好{0}{1}工作的通知",
    "{0}开展{1}专项行动",
    "《{0}{1}办法》政策解读",
    "{0}{1}情况通报",
    "关于公开征求{0}{1}意见的公告",
)
COLUMN_NAMES = (
    "工作动态",
    "通知公告",
    "政策文件",
    "政策解读",
    "人事信息",
    "规划计划",
    "办事指南",
    "政务咨询",
)
IMAGE_BODY = b"\xff\xd8\xff\xe0" + bytes(range(256)) * 8  # ~2 KB
PDF_BODY = b"%PDF-1.4\n" + b"0" * 20000 + b"\n%%EOF\n"  # ~20 KB
CSS_BODY = b"body{font-family:SimSun,serif;margin:0}.article{width:1000px;margin:0 auto}\n" * 20
NOT_FOUND_BODY = (
    "<!DOCTYPE html><html><head><meta charset='utf-8'><title>404</title></head>"
    "<body><h1>404</h1><p>您访问的页面不存在或已被删除。</p></body></html>"
).encode()


def splitmix64(x: int) -> int:
    """A fast, well-mixed 64-bit hash (SplitMix64 finaliser)."""
    x = (x + 0x9E3779B97F4A7C15) & MASK64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & MASK64
    return x ^ (x >> 31)


@dataclass(frozen=True)
class Broken:
    """The broken links a page carries (drawn first from the page's generator)."""

    missing_page: int | None  # id ≥ N of a deleted article it links, or None
    missing_image: bool  # the second picture is deleted
    missing_banner: bool  # the old banner replaces the logo
    missing_pdf: bool  # the attachment is deleted


@dataclass(frozen=True)
class Links:
    """Every link target of one page, as (host index, path) pairs."""

    pages: list[int]  # page ids (≥ N for deleted ones)
    images: list[tuple[int, str]]
    pdf: tuple[int, str]
    css: tuple[int, str]


@dataclass
class Site:
    """The synthetic site: N pages over H hosts 127.0.0.1 … 127.0.0.H, one port."""

    pages: int
    hosts: int
    port: int = 0
    seed: int = 2020
    page_links: int = PAGE_LINKS  # links to pages per page (the link-heavy site: 264)
    page_bytes: int = TARGET_PAGE_BYTES  # HTML bytes per page, about (link-heavy: 47,000)
    _paragraphs: list[str] = field(init=False, repr=False)
    _paragraph_bytes: list[int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.hosts < 1 or self.hosts > 250:
            raise ValueError("hosts must be between 1 and 250")
        if self.pages < self.hosts:
            raise ValueError("pages must be at least the number of hosts")
        rng = random.Random(self.seed)
        self._paragraphs = [_paragraph(rng) for _ in range(512)]
        self._paragraph_bytes = [len(p.encode()) for p in self._paragraphs]

    # ---- addressing -------------------------------------------------------------------------

    def address(self, host: int) -> str:
        return f"127.0.0.{host + 1}"

    def addresses(self) -> list[str]:
        return [self.address(h) for h in range(self.hosts)]

    def origin(self, host: int) -> str:
        return f"http://{self.address(host)}:{self.port}"

    def home_urls(self) -> list[str]:
        return [self.origin(h) + "/" for h in range(self.hosts)]

    def host_index(self, host: str) -> int | None:
        """The host index of an address such as ``127.0.0.3`` (None when not one of ours)."""
        prefix, _, last = host.rpartition(".")
        if prefix != "127.0.0" or not last.isdigit():
            return None
        index = int(last) - 1
        return index if 0 <= index < self.hosts else None

    def url(self, host: int, path: str) -> str:
        return self.origin(host) + path

    # ---- pages ------------------------------------------------------------------------------

    @property
    def missing_pool(self) -> int:
        return max(1, round(self.pages * MISSING_PAGE_POOL))

    def host_of(self, pid: int) -> int:
        return pid % self.hosts

    def _hash(self, pid: int, salt: int = 0) -> int:
        return splitmix64(pid * 0x100000001B3 ^ self.seed * 0x9E37 ^ salt)

    def column(self, pid: int) -> int:
        return self._hash(pid, 1) % 40 + 1

    def date(self, pid: int) -> dt.date:
        return BASE_DATE - dt.timedelta(days=self._hash(pid, 2) % 1800)

    def _dir_and_day(self, pid: int) -> tuple[str, str]:
        day = self.date(pid).strftime("%Y%m%d")
        return f"/col{self.column(pid)}/{day[:6]}/", day

    def page_path(self, pid: int) -> str:
        if pid < self.hosts:
            return "/"
        directory, day = self._dir_and_day(pid)
        return f"{directory}t{day}_{pid}.html"

    def page_url(self, pid: int) -> str:
        return self.url(self.host_of(pid), self.page_path(pid))

    def image_path(self, pid: int, k: int) -> str:
        directory, day = self._dir_and_day(pid)
        return f"{directory}W0{day}_{pid}_{k}.jpg"

    def pdf_path(self, pid: int, k: int) -> str:
        directory, day = self._dir_and_day(pid)
        return f"{directory}P0{day}_{pid}_{k}.pdf"

    def title(self, pid: int) -> str:
        if pid < self.hosts:
            return f"合成区第{pid + 1}门户网站"
        h = self._hash(pid, 3)
        form = TITLE_FORMS[h % len(TITLE_FORMS)]
        first = PHRASES[(h >> 8) % len(PHRASES)]
        second = PHRASES[(h >> 16) % len(PHRASES)]
        return form.format(first, second)

    def _rng(self, pid: int) -> random.Random:
        return random.Random(self.seed * 1_000_003 + pid)

    @staticmethod
    def _draw_broken(rng: random.Random, pages: int, pool: int) -> Broken:
        missing = pages + rng.randrange(pool) if rng.random() < P_MISSING_PAGE else None
        return Broken(
            missing_page=missing,
            missing_image=rng.random() < P_MISSING_IMAGE,
            missing_banner=rng.random() < P_MISSING_BANNER,
            missing_pdf=rng.random() < P_MISSING_PDF,
        )

    def broken(self, pid: int) -> Broken:
        return self._draw_broken(self._rng(pid), self.pages, self.missing_pool)

    def links(self, pid: int) -> Links:
        """The link targets of page ``pid`` (which must exist)."""
        rng = self._rng(pid)
        broken = self._draw_broken(rng, self.pages, self.missing_pool)
        host = self.host_of(pid)
        n = self.pages
        wanted = [host, (host + 1) % self.hosts, pid - 1, pid + 1]
        first_child = pid * TREE_BRANCHING + 1
        wanted.extend(range(first_child, min(first_child + TREE_BRANCHING, n)))
        chosen: list[int] = []
        seen = {pid}
        for target in wanted:
            if 0 <= target < n and target not in seen:
                seen.add(target)
                chosen.append(target)
        random_slots = self.page_links - len(chosen) - (1 if broken.missing_page is not None else 0)
        limit = min(random_slots, n - len(seen))
        while limit > 0:
            target = rng.randrange(n)
            if target not in seen:
                seen.add(target)
                chosen.append(target)
                limit -= 1
        if broken.missing_page is not None:
            chosen.append(broken.missing_page)
        images = [
            (host, BANNER_PATH if broken.missing_banner else LOGO_PATH),
            (host, self.image_path(pid, 1)),
            (host, self.image_path(pid, 0 if broken.missing_image else 2)),
        ]
        pdf = (host, self.pdf_path(pid, 0 if broken.missing_pdf else 1))
        return Links(pages=chosen, images=images, pdf=pdf, css=(host, CSS_PATH))

    # ---- rendering --------------------------------------------------------------------------

    def _href(self, from_host: int, host: int, path: str) -> str:
        return path if host == from_host else self.url(host, path)

    def render(self, pid: int) -> bytes:
        """The HTML of page ``pid`` (about ``page_bytes``, 9 KB by default)."""
        links = self.links(pid)
        host = self.host_of(pid)
        title = self.title(pid)
        site_name = self.title(host)
        date = self.date(pid).isoformat()
        column = COLUMN_NAMES[self.column(pid) % len(COLUMN_NAMES)]
        css = self._href(host, *links.css)
        logo, pic1, pic2 = (self._href(host, *img) for img in links.images)
        pdf = self._href(host, *links.pdf)
        pdf_name = links.pdf[1].rsplit("/", 1)[1]
        items = []
        for target in links.pages:
            href = self._href(host, self.host_of(target), self.page_path(target))
            items.append(
                f'<li><a href="{href}" target="_blank">{self.title(target)}</a>'
                f"<span>{self.date(target).isoformat()}</span></li>"
            )
        head = (
            '<!DOCTYPE html>\n<html lang="zh-CN"><head><meta charset="utf-8">'
            f"<title>{title}_{site_name}</title>"
            f'<meta name="SiteName" content="{site_name}">'
            f'<meta name="ColumnName" content="{column}">'
            f'<meta name="ArticleTitle" content="{title}">'
            f'<meta name="PubDate" content="{date} 10:20">'
            f'<link rel="stylesheet" href="{css}"></head>\n<body><a name="top"></a>'
            f'<div class="header"><img src="{logo}" alt="{site_name}"></div>\n'
            f'<div class="article"><h1>{title}</h1>'
            f'<div class="info">发布时间：{date} 来源：{column}</div>\n'
        )
        related = (
            '</div>\n<div class="related"><h3>相关文章</h3><ul>\n'
            + "\n".join(items)
            + "\n</ul></div>\n"
            '<div class="footer"><p>主办：合成区人民政府办公室 ICP备12345678号 '
            '公网安备 44070302000001号</p><a href="#top">返回顶部</a></div></body></html>\n'
        )
        middle_fixed = (
            f'<p><img src="{pic1}" alt="图片1"></p><p><img src="{pic2}" alt="图片2"></p>'
            f'<p>附件：<a href="{pdf}">{pdf_name}</a></p>\n'
        )
        used = len(head.encode()) + len(related.encode()) + len(middle_fixed.encode())
        paragraphs: list[str] = []
        h = self._hash(pid, 4)
        count = len(self._paragraphs)
        while used < self.page_bytes:
            index = h % count
            h = splitmix64(h)
            paragraphs.append(self._paragraphs[index])
            used += self._paragraph_bytes[index] + 7
        body = "".join(f"<p>{p}</p>" for p in paragraphs)
        return (head + body + middle_fixed + related).encode()

    # ---- serving ----------------------------------------------------------------------------

    def _valid_page(self, host: int, pid: int) -> bool:
        return pid < self.pages and self.host_of(pid) == host

    def lookup(self, host: int, path: str) -> tuple[int, str, bytes]:
        """Status, content type and body for ``path`` on host index ``host``."""
        if path in ("/", "/index.html"):
            return 200, "text/html; charset=utf-8", self.render(host)
        if path.endswith(".html"):
            m = ARTICLE_RE.fullmatch(path)
            if m is not None:
                pid = int(m.group(4))
                if (
                    pid >= self.hosts
                    and self._valid_page(host, pid)
                    and self.page_path(pid) == path
                ):
                    return 200, "text/html; charset=utf-8", self.render(pid)
        elif path.endswith(".jpg"):
            m = IMAGE_RE.fullmatch(path)
            if m is not None:
                pid, k = int(m.group(4)), int(m.group(5))
                if k in (1, 2) and self._valid_page(host, pid) and self.image_path(pid, k) == path:
                    return 200, "image/jpeg", IMAGE_BODY
        elif path.endswith(".pdf"):
            m = PDF_RE.fullmatch(path)
            if m is not None:
                pid, k = int(m.group(4)), int(m.group(5))
                if k == 1 and self._valid_page(host, pid) and self.pdf_path(pid, k) == path:
                    return 200, "application/pdf", PDF_BODY
        elif path == LOGO_PATH:
            return 200, "image/png", IMAGE_BODY
        elif path == CSS_PATH:
            return 200, "text/css", CSS_BODY
        return 404, "text/html; charset=utf-8", NOT_FOUND_BODY

    # ---- ground truth -----------------------------------------------------------------------

    def _survey(self) -> tuple[list[tuple[str, str]], int, int]:
        """One pass over every page's broken draws: the broken targets (URL, kind), once each,
        the number of hosts whose logo is linked, and the number of deleted article pictures."""
        broken_list: list[tuple[str, str]] = []
        missing_pages: set[int] = set()
        banner_hosts: set[int] = set()
        logo_hosts: set[int] = set()
        missing_images = 0
        for pid in range(self.pages):
            broken = self.broken(pid)
            host = self.host_of(pid)
            if broken.missing_page is not None:
                missing_pages.add(broken.missing_page)
            if broken.missing_image:
                missing_images += 1
                broken_list.append((self.url(host, self.image_path(pid, 0)), "image"))
            if broken.missing_banner:
                banner_hosts.add(host)
            else:
                logo_hosts.add(host)
            if broken.missing_pdf:
                broken_list.append((self.url(host, self.pdf_path(pid, 0)), "attachment"))
        broken_list.extend((self.url(h, BANNER_PATH), "image") for h in sorted(banner_hosts))
        broken_list.extend((self.page_url(m), "page") for m in sorted(missing_pages))
        return broken_list, len(logo_hosts), missing_images

    def broken_targets(self) -> list[tuple[str, str]]:
        """Every broken target linked from the site, once: (URL, kind)."""
        return self._survey()[0]

    def ground_truth(self, with_urls: bool = True) -> dict[str, object]:
        """Counts of what exists and what is broken (every page is reachable by construction).

        ``targets`` is the number of distinct URLs linked from the site: the least number of
        requests a checker needs (one per target, no re-checks)."""
        broken_list, logo_hosts, missing_images = self._survey()
        kinds = Counter(kind for _, kind in broken_list)
        # Existing targets: N pages; per page its first picture, its second unless deleted,
        # its PDF unless deleted; per host the stylesheet and (when linked) the logo.
        ok_images = 2 * self.pages - missing_images + logo_hosts
        ok_pdfs = self.pages - kinds["attachment"]
        ok_targets = self.pages + ok_images + ok_pdfs + self.hosts
        truth: dict[str, object] = {
            "pages": self.pages,
            "hosts": self.hosts,
            "seed": self.seed,
            "targets": ok_targets + len(broken_list),
            "ok_targets": ok_targets,
            "broken": len(broken_list),
            "broken_by_kind": {k: kinds[k] for k in ("page", "image", "attachment")},
        }
        if with_urls:
            truth["broken_urls"] = sorted(url for url, _ in broken_list)
        return truth


def _paragraph(rng: random.Random) -> str:
    sentences = []
    for _ in range(rng.randint(2, 5)):
        words = [rng.choice(PHRASES) for _ in range(rng.randint(4, 9))]
        cut = rng.randint(1, len(words) - 1)
        sentences.append("".join(words[:cut]) + "，" + "".join(words[cut:]) + "。")
    return "".join(sentences)


# ---- the server -----------------------------------------------------------------------------


class Server:
    """The aiohttp server of a `Site`, counting what it answers."""

    def __init__(self, site: Site, access_log: IO[str] | None = None) -> None:
        self.site = site
        self.counts: Counter[str] = Counter()
        self.access_log = access_log

    async def handle(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path == STATS_PATH:
            return web.json_response(dict(self.counts))
        hostname = request.host.rsplit(":", 1)[0] if request.host else ""
        host = self.site.host_index(hostname)
        if host is None:
            sockname = request.transport.get_extra_info("sockname") if request.transport else None
            host = self.site.host_index(sockname[0]) if sockname else None
        if host is None:
            status, ctype, body = 404, "text/html; charset=utf-8", NOT_FOUND_BODY
        else:
            status, ctype, body = self.site.lookup(host, path)
        counts = self.counts
        counts["requests"] += 1
        counts[f"method.{request.method}"] += 1
        counts[f"status.{status}"] += 1
        kind = "resource" if path.endswith(RESOURCE_SUFFIXES) else "page"
        counts[f"{request.method}.{kind}.{status}"] += 1
        if request.method != "HEAD":
            counts["bytes"] += len(body)
        if self.access_log is not None:
            self.access_log.write(f"{request.method} {status} {request.host}{request.path_qs}\n")
        return web.Response(status=status, body=body, content_type=None, headers=_headers(ctype))


def _headers(content_type: str) -> dict[str, str]:
    return {"Content-Type": content_type, "Server": "TRS WCM synth"}


async def serve(site: Site, port: int, access_log: IO[str] | None = None) -> None:
    """Listen on every host's address (same port), print a ready line, run until signalled."""
    loop = asyncio.get_running_loop()
    server = Server(site, access_log)
    low = web.Server(server.handle, access_log=None)
    listeners: list[asyncio.AbstractServer] = []
    for attempt in range(20):
        try:
            first = _bind(site.address(0), port)
            chosen = first.getsockname()[1]
            sockets = [first] + [_bind(a, chosen) for a in site.addresses()[1:]]
        except OSError:
            if port != 0 or attempt == 19:
                raise
            continue
        break
    for sock in sockets:
        listeners.append(await loop.create_server(low, sock=sock, backlog=4096))
    site.port = chosen
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    print(
        json.dumps({"ready": True, "port": chosen, "homes": site.home_urls()}),
        flush=True,
    )
    await stop.wait()
    for listener in listeners:
        listener.close()
    await low.shutdown(1.0)


def _bind(address: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))
    except OSError:
        sock.close()
        raise
    return sock


def _site_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--pages", type=int, default=5000, help="pages N (default 5000)")
    parser.add_argument("--hosts", type=int, default=4, help="hosts H (default 4)")
    parser.add_argument("--seed", type=int, default=2020)
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--links", type=int, default=PAGE_LINKS, help="page links per page")
    parser.add_argument("--page-bytes", type=int, default=TARGET_PAGE_BYTES)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.synth", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve_p = commands.add_parser("serve", help="serve the site on 127.0.0.1 … 127.0.0.H")
    _site_arguments(serve_p)
    serve_p.add_argument("--access-log", type=Path, help="write 'METHOD STATUS URL' lines here")
    truth_p = commands.add_parser("truth", help="print the ground truth as JSON")
    _site_arguments(truth_p)
    truth_p.add_argument("--urls", action="store_true", help="list the broken URLs")
    page_p = commands.add_parser("page", help="print one page's HTML")
    _site_arguments(page_p)
    page_p.add_argument("pid", type=int)
    args = parser.parse_args(argv)
    site = Site(
        pages=args.pages,
        hosts=args.hosts,
        port=args.port,
        seed=args.seed,
        page_links=args.links,
        page_bytes=args.page_bytes,
    )
    if args.command == "serve":
        if args.access_log is None:
            uvloop.run(serve(site, args.port))
        else:
            with args.access_log.open("w", buffering=1 << 20) as log:
                uvloop.run(serve(site, args.port, log))
    elif args.command == "truth":
        json.dump(site.ground_truth(with_urls=args.urls), sys.stdout, ensure_ascii=False, indent=1)
        print()
    else:
        sys.stdout.write(site.render(args.pid).decode())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
