"""Messages, interpretations, guides and content through a real scan of a served site."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aiohttp import web

from crawler.cli import main
from tests.support.localserver import serve

NAV = (
    '<div class="nav"><a href="/">首页</a><a href="/hdjl/">政务咨询</a>'
    '<a href="/zcwj/">政策文件</a><a href="/zcjd/">政策解读</a><a href="/bszn/">办事指南</a>'
    '<a href="/gzdt/">工作动态</a></div>'
)
FOOT = '<div class="footer">粤ICP备12345678号 粤公网安备 44070302000123号 版权所有</div>'


def page(title: str, body: str) -> str:
    return (
        f'<html><head><meta charset="utf-8"><title>{title}</title></head><body>{NAV}'
        f"<div class='main'>{body}</div>{FOOT}</body></html>"
    )


def rows(items: list[tuple[str, str, str]]) -> str:
    lis = "".join(f'<li><a href="{u}">{t}</a><span>{d}</span></li>' for u, t, d in items)
    return f'<ul class="list">{lis}</ul>'


# message board: (path, title, asked, status, replied or None)
MESSAGES = [
    # asked Tue 2020-04-28, answered Thu 05-07: 4 working days (1-5 May holiday): on time
    ("/hdjl/m1.html", "关于小区停车收费的咨询", "2020-04-28", "已回复", "2020-05-07"),
    # asked Fri 05-08, answered Fri 05-15: 6 working days (Sat 05-09 was a working day): late
    ("/hdjl/m2.html", "关于公交线路调整的咨询", "2020-05-08", "已回复", "2020-05-15"),
    # asked 06-01, not answered by 06-16: 11 working days: overdue
    ("/hdjl/m3.html", "关于学位申请材料的咨询", "2020-06-01", "未回复", None),
    # asked 2020-01-10, never answered: more than 90 days: the veto case
    ("/hdjl/m4.html", "关于道路积水问题的反映", "2020-01-10", "未回复", None),
    # answered on time but the reply lacks its unit: incomplete
    ("/hdjl/m5.html", "关于健身设施维修的建议", "2020-06-08", "已回复", "2020-06-09"),
]


def board() -> str:
    trs = "".join(
        f'<tr><td><a href="{p}">{t}</a></td><td>{a}</td><td>{s}</td></tr>'
        for p, t, a, s, _ in MESSAGES
    )
    table = f"<table><tr><th>标题</th><th>留言时间</th><th>状态</th></tr>{trs}</table>"
    return page("政务咨询", table)


def message(path: str) -> str:
    _, title, asked, status, replied = next(m for m in MESSAGES if m[0] == path)
    reply = ""
    if replied:
        unit = "" if path.endswith("m5.html") else "<tr><th>答复单位</th><td>区交通运输局</td></tr>"
        reply = (
            f"<tr><th>答复时间</th><td>{replied} 10:00</td></tr>{unit}"
            "<tr><th>答复内容</th><td>您好，您反映的问题已转交相关部门办理，感谢您的关注。</td></tr>"
        )
    return page(
        title,
        f"<table><tr><th>标题</th><td>{title}</td></tr><tr><th>留言时间</th><td>{asked} 09:30</td>"
        f"</tr><tr><th>状态</th><td>{status}</td></tr><tr><th>留言内容</th><td>请问{title}。</td></tr>"
        f"{reply}</table>",
    )


GUIDE_OK = "".join(
    f"<h3>{h}</h3><p>{v}</p>"
    for h, v in [
        ("事项名称", "企业投资项目备案"), ("法定依据", "《企业投资项目核准和备案管理条例》"),
        ("申请条件", "在本区投资建设的企业投资项目"), ("申报材料", "项目备案信息表一份"),
        ("办理地点", "区政务服务中心二楼"), ("实施机构", "区发展和改革局"),
        ("收费标准", "不收费"), ("承诺时限", "1个工作日"), ("咨询电话", "0750-1234567"),
        ("办理流程", "申请、受理、备案"),
    ]
)  # fmt: skip
GUIDE_BAD = "<h3>事项名称</h3><p>农村建房审批</p><h3>申请条件</h3><p>本村村民</p>" + (
    "<h3>办理地点</h3><p>镇政府</p><h3>收费标准</h3><p>无</p><h3>办理流程</h3><p>申请、审批</p>"
)


def _app() -> web.Application:
    pages: dict[str, str] = {
        "/": page("测试区人民政府", rows([("/gzdt/a1.html", "区长调研工作", "2020-06-15")])),
        "/gzdt/": page("工作动态", rows([("/gzdt/a1.html", "区长调研工作", "2020-06-15")])),
        "/gzdt/a1.html": page(
            "区长调研工作",
            "<h1>区长调研工作</h1><p>2020-06-15</p><p>会议强调，要坚持以人民为中心，认真贯彻"
            "落实中央精神，推进全面从严治党，不忘出心，纪律不能松驰。陈松驰同志参加调研。</p>"
            "<p>申请人张某某，身份证号11010519491231002X，已于当日登记，13812345678为其本人号码。</p>"
            '<div style="display:none"><a href="http://casino.example/">网上娱乐城</a></div>',
        ),
        "/hdjl/": board(),
        "/zcwj/": page(
            "政策文件",
            rows(
                [
                    ("/zcwj/d1.html", "测试区优化营商环境若干措施", "2020-05-10"),
                    ("/zcwj/d2.html", "测试区农村建房管理办法", "2020-04-01"),
                ]
            ),
        ),
        "/zcwj/d1.html": page(
            "测试区优化营商环境若干措施",
            "<h1>测试区优化营商环境若干措施</h1><p>测府〔2020〕12号</p><p>发布日期：2020-05-10</p>"
            '<p>相关解读：<a href="/zcjd/j1.html">图解</a></p>',
        ),
        "/zcwj/d2.html": page(
            "测试区农村建房管理办法",
            "<h1>测试区农村建房管理办法</h1><p>测府〔2020〕9号</p><p>发布日期：2020-04-01</p>",
        ),
        "/zcjd/": page(
            "政策解读", rows([("/zcjd/j1.html", "解读优化营商环境若干措施", "2020-05-12")])
        ),
        "/zcjd/j1.html": page(
            "解读优化营商环境若干措施",
            "<h1>《测试区优化营商环境若干措施》解读</h1><p>发布日期：2020-05-12</p>"
            '<p>原文：<a href="/zcwj/d1.html">测试区优化营商环境若干措施</a></p>',
        ),
        "/bszn/": page(
            "办事指南",
            rows(
                [
                    ("/bszn/g1.html", "企业投资项目备案办事指南", "2020-03-01"),
                    ("/bszn/g2.html", "农村建房审批办事指南", "2020-03-02"),
                ]
            ),
        ),
        "/bszn/g1.html": page("企业投资项目备案办事指南", GUIDE_OK),
        "/bszn/g2.html": page("农村建房审批办事指南", GUIDE_BAD),
    }
    for path, *_ in MESSAGES:
        pages[path] = message(path)

    async def handler(request: web.Request) -> web.Response:
        text = pages.get(request.path)
        if text is None:
            raise web.HTTPNotFound()
        return web.Response(text=text, content_type="text/html")

    app = web.Application()
    app.router.add_get("/{tail:.*}", handler)
    return app


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("issue4")
    with serve(_app()) as port:
        cfg = tmp / "g.toml"
        cfg.write_text(
            f"""as_of = 2020-06-16
[crawl]
allow_private = true
resolve_only = true
rate = 0
recheck_delay = 0
robots = "ignore"
[[site]]
id = "t"
name = "测试区人民政府"
unit = "测试区政府办"
url = "http://127.0.0.1:{port}/"
""",
            encoding="utf-8",
        )
        db, out = tmp / "g.db", tmp / "r.json"
        assert main(["scan", str(cfg), "--db", str(db)]) == 0
        assert main(["report", "--db", str(db), "--output", str(out)]) == 0
    data: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    data["port"] = port
    return data


def _by(report: dict[str, Any], check: str) -> dict[str, dict[str, Any]]:
    base = f"http://127.0.0.1:{report['port']}"
    return {f["url"].removeprefix(base): f for f in report["findings"] if f["check"] == check}


def test_message_replies(report: dict[str, Any]) -> None:
    late = _by(report, "message.late_reply")
    assert list(late) == ["/hdjl/m2.html"]
    assert late["/hdjl/m2.html"]["detail"]["working_days"] == 6
    assert late["/hdjl/m2.html"]["column"] == "政务咨询"
    overdue = _by(report, "message.overdue")
    assert list(overdue) == ["/hdjl/m3.html"]
    unanswered = _by(report, "message.unanswered")
    assert list(unanswered) == ["/hdjl/m4.html"]
    assert unanswered["/hdjl/m4.html"]["severity"] == "veto"
    incomplete = _by(report, "message.incomplete")
    assert list(incomplete) == ["/hdjl/m5.html"]
    assert incomplete["/hdjl/m5.html"]["detail"]["missing"] == ["答复单位"]
    # m1 crossed the May Day holiday: 4 working days, on time, in no finding
    assert not any(f["url"].endswith("/hdjl/m1.html") for f in report["findings"])


def test_policy_interpretation(report: dict[str, Any]) -> None:
    assert list(_by(report, "policy.no_interpretation")) == ["/zcwj/d2.html"]


def test_service_guides(report: dict[str, Any]) -> None:
    guides = _by(report, "service.guide_incomplete")
    assert list(guides) == ["/bszn/g2.html"]  # g1 names every element by a synonym
    assert guides["/bszn/g2.html"]["detail"]["missing"] == [
        "设定依据", "办理材料", "办理机构", "办理时间", "联系电话",
    ]  # fmt: skip


def test_content(report: dict[str, Any]) -> None:
    typos = _by(report, "content.typo")
    assert list(typos) == ["/gzdt/a1.html"]
    hits = typos["/gzdt/a1.html"]["detail"]["hits"]
    assert [(h["text"], h["suggestion"]) for h in hits] == [
        ("不忘出心", "不忘初心"),
        ("松驰", "松弛"),
    ]
    assert "纪律不能松驰" in hits[1]["context"]  # the one in 陈松驰 (a name) is not a hit
    pii = _by(report, "content.pii")
    assert list(pii) == ["/gzdt/a1.html"]
    assert pii["/gzdt/a1.html"]["detail"]["count"] == 2
    assert "13812345678" not in json.dumps(pii)  # evidence is masked
    hidden = _by(report, "content.hidden_link")
    assert list(hidden) == ["/gzdt/a1.html"]
    assert hidden["/gzdt/a1.html"]["detail"]["links"][0]["url"] == "http://casino.example/"
    # the ICP footer on every page flags nothing
    assert not _by(report, "content.sensitive")
