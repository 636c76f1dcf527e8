"""Page readers: what a page says, read without judging it. The checks judge what they read.

Every reader is pure (the caller fetches) and imports nothing of the checks above it: only other
readers, the catalogue's vocabulary, ``crawler.net`` (URLs, fetch results) and the config's
types. One module (or package) per kind of reading:

* a page: :mod:`.encoding` (bytes to text), :mod:`.extract` (links, title, kind),
  :mod:`.nesting` (the parser's work bounded), :mod:`.text` (the lines a reader sees, labelled
  values);
* lists and dates: :mod:`.listing` (a column's rows, with :mod:`.listrows` and
  :mod:`.pagination`), :mod:`.dates` (dates in text), :mod:`.published` (a page's own date);
* forms and boards: :mod:`.forms` (a site's search form), :mod:`.boards` (message boards);
* lexicon files: :mod:`.wordlists`;
* pages built by script: :mod:`.scripted` (static readers and the browser, per scan),
  :mod:`.jsread` (the static readers' entrance: :mod:`.platforms` per CMS, :mod:`.scriptpager`,
  :mod:`.scripttext`), :mod:`.render` (headless Chromium) behind :mod:`.rendering`.
"""

__all__ = [
    "boards",
    "dates",
    "encoding",
    "extract",
    "forms",
    "jsread",
    "listing",
    "listrows",
    "nesting",
    "pagination",
    "platforms",
    "published",
    "render",
    "rendering",
    "scripted",
    "scriptpager",
    "scripttext",
    "text",
    "wordlists",
]
