"""Static readers of pages built by script: what a browser would show, read without one. Pure.

* **大汉 Hanweb JCMS** (:func:`hanweb_datastores`, :func:`dataproxy_request`): a column's rows
  are ``<record><![CDATA[<li>…</li>]]></record>`` inside ``<script type="text/xml"><datastore>``;
  the page's ``jpage`` call says ``totalRecord`` and ``perPage``; later groups of rows come by
  POST to ``/module/web/jpage/dataproxy.jsp?startrecord=…&endrecord=…&perpage=…`` with the form
  fields of the ``nextgroup`` link (col, appid, webid, path, columnid, sourceContentType, unitid,
  webname, permissiontype), answered with a datastore again.
* **广东 gkmlpt** (:func:`gkmlpt_config`, :func:`gkmlpt_catalogue_html`, :func:`gkmlpt_list_html`):
  the shell ``/gkmlpt/index`` carries ``window._CONFIG = {SID: …, TREE: [...]}``; a catalogue's
  list is ``/gkmlpt/api/all/<id>?page=N&sid=<SID>``, JSON with dates in epoch seconds.
* **Pagers that exist only as script** (:func:`script_pager_targets`): ``onclick="toPage(2)"``,
  ``href="javascript:goPage(2)"`` … whose function is defined in the page: the URL it sends the
  browser to is computed by a tiny evaluator of the function's expression (string and number
  literals, its parameters, the page's ``var`` constants, ``+ - * / %``, comparisons and ``?:``).

Every reader answers HTML that the ordinary list reader (:mod:`checks.readers.listing`)
and the checks read like any static page. Nothing here fetches; the caller does
(:mod:`checks.readers.scripted`). The platforms' readers live in :mod:`checks.readers.platforms`,
the script pagers' in :mod:`checks.readers.scriptpager`; this module is their one entrance.
"""

from checks.readers.platforms import (
    MAX_GROUP_PAGES,
    Datastore,
    dataproxy_request,
    gkmlpt_catalogue_html,
    gkmlpt_config,
    gkmlpt_list_html,
    hanweb_datastores,
    inline_datastores,
    is_gkmlpt_api,
    jpage_settings,
    parse_datastore,
)
from checks.readers.scriptpager import (
    MAX_PAGER_ELEMENTS,
    PAGER_WORDS,
    PagerTargets,
    Value,
    inline_scripts,
    link_pagers,
    page_constants,
    script_pager_targets,
)

__all__ = [
    "MAX_GROUP_PAGES",
    "MAX_PAGER_ELEMENTS",
    "PAGER_WORDS",
    "Datastore",
    "PagerTargets",
    "Value",
    "dataproxy_request",
    "gkmlpt_catalogue_html",
    "gkmlpt_config",
    "gkmlpt_list_html",
    "hanweb_datastores",
    "inline_datastores",
    "inline_scripts",
    "is_gkmlpt_api",
    "jpage_settings",
    "link_pagers",
    "page_constants",
    "parse_datastore",
    "script_pager_targets",
]
