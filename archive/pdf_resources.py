"""What a PDF we print may load: nothing from outside the page itself.

WeasyPrint fetches every URL a document names (file://, http://; a <link rel=attachment> even
embeds the file into the PDF). The HTML we print comes from templates, some of them written by
staff (lease templates), so a `file:///…` or an internal address would leak the server's files
or reach its network. Every WeasyPrint call passes `url_fetcher=inline_only()`: `data:` URLs
(inline images) still work, anything else is refused, logged and left out of the PDF.
"""


def inline_only():
    """A WeasyPrint URL fetcher for `data:` URLs alone (weasyprint is imported only here, by
    the code that prints)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols={"data"}, allow_redirects=False, timeout=5)
