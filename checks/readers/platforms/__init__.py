"""Readers of the CMS platforms whose pages are built by script, one module per platform:
大汉 Hanweb JCMS (:mod:`.hanweb`) and 广东 gkmlpt (:mod:`.gkmlpt`). Pure."""

from checks.readers.platforms.gkmlpt import (
    MAX_GROUP_PAGES,
    gkmlpt_catalogue_html,
    gkmlpt_config,
    gkmlpt_list_html,
    is_gkmlpt_api,
)
from checks.readers.platforms.hanweb import (
    Datastore,
    dataproxy_request,
    hanweb_datastores,
    inline_datastores,
    jpage_settings,
    parse_datastore,
)

__all__ = [
    "MAX_GROUP_PAGES",
    "Datastore",
    "dataproxy_request",
    "gkmlpt_catalogue_html",
    "gkmlpt_config",
    "gkmlpt_list_html",
    "hanweb_datastores",
    "inline_datastores",
    "is_gkmlpt_api",
    "jpage_settings",
    "parse_datastore",
]
