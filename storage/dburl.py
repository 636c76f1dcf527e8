"""Server store URLs (``postgresql://user:password@host:port/db?schema=…``) read without ever
showing their password: the form shown in messages and logs, and a clear refusal of URLs a
driver would misread.

A password holding ``/``, ``?``, ``#`` or ``@`` unencoded cuts a URL in the wrong place: the
drivers would take part of the password for the host, the port or the database, and echo it in
their errors. Such a URL is refused before any driver sees it (:class:`DbUrlError`, whose
message shows the URL without its password).
"""

from __future__ import annotations

from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

__all__ = ["DbUrlError", "masked", "scrub", "shown", "split_db_url"]


class DbUrlError(ValueError):
    """A server store URL that cannot be read safely; the message never holds the password."""


def masked(url: str) -> str:
    """``url`` with the password, query and fragment left out, however malformed it is: the
    user info is taken to end at the *last* ``@``, so a password holding ``/ ? # @`` is hidden
    whole. ``postgresql://u:p/w@h/db?x=1`` gives ``postgresql://u@h/db``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        return url.split("?", 1)[0].split("#", 1)[0]
    userinfo, at, tail = rest.rpartition("@")
    if not at:
        userinfo, tail = "", rest
    tail = tail.split("?", 1)[0].split("#", 1)[0]
    if not at:
        return f"{scheme}://{tail}"
    cut = min((i for i in map(userinfo.find, ":/?#") if i >= 0), default=len(userinfo))
    return f"{scheme}://{userinfo[:cut]}@{tail}"


def split_db_url(url: str) -> SplitResult:
    """``url`` split (:func:`urllib.parse.urlsplit`), once it is known to split where a driver
    splits it. Raises :class:`DbUrlError` for a ``@`` after the host (an unencoded ``/ ? # @``
    in the user name or password), a host with an unclosed ``[``, or a port that is not a
    number."""
    shown = masked(url)
    if any(c in url for c in "\t\n\r"):
        raise DbUrlError(f"{shown}: a tab or line break in the URL")
    try:
        parts = urlsplit(url)
    except ValueError:  # the only complaint urlsplit has: an unclosed IPv6 bracket
        why = "an IPv6 host needs its brackets closed ([::1]:5432)"
        raise DbUrlError(f"{shown}: not a valid server URL: {why}") from None
    after = url.partition("://")[2][len(parts.netloc) :]
    if "@" in after or parts.netloc.count("@") > 1:
        raise DbUrlError(
            f"{shown}: '@' after the host: a user name or password that holds '/', '?', '#'"
            " or '@' must be percent-encoded (%2F, %3F, %23, %40), and so must an '@' in the"
            " database name or a parameter"
        )
    try:
        parts.port  # noqa: B018 - it raises for a port that is not a number
    except ValueError:
        why = "the port must be a number from 0 to 65535"
        raise DbUrlError(f"{shown}: not a valid server URL: {why}") from None
    return parts


def scrub(text: str, url: str) -> str:
    """``text`` (a driver's error message) with the password of ``url`` replaced by ``***``,
    as written and percent-decoded, wherever it appears."""
    try:
        password = urlsplit(url).password
    except ValueError:
        return text
    if not password:
        return text
    for form in {password, unquote(password)}:
        if form:
            text = text.replace(form, "***")
    return text


def shown(db: str) -> str:
    """What messages show of a ``--db``: a file path as it is; a server URL without its
    password and parameters (``?schema=`` kept): ``postgresql://u@h:5432/db?schema=s``."""
    if "://" not in db:
        return db
    try:
        parts = split_db_url(db)
    except DbUrlError:
        return masked(db)
    userinfo, at, hostport = parts.netloc.rpartition("@")
    user = userinfo.partition(":")[0]
    text = f"{parts.scheme}://{user}{at}{hostport}{parts.path}"
    schema = dict(parse_qsl(parts.query, keep_blank_values=True)).get("schema", "public")
    return text + (f"?schema={schema}" if schema != "public" else "")
