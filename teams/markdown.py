"""Markdown rendered safely: Markdown to HTML, then nh3 keeps only harmless tags and links.

Used for every user-written markdown field. Scripts, event handlers, images, inline styles and
javascript:/data: links are removed; links get rel="noopener noreferrer nofollow".
"""

from __future__ import annotations

import markdown as markdown_lib
import nh3

ALLOWED_TAGS = {
    "p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
    "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """Safe HTML for `text` (markdown); an empty string for empty input."""
    if not text:
        return ""
    html = markdown_lib.markdown(
        text, extensions=["tables", "fenced_code", "sane_lists"], output_format="html"
    )
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
        strip_comments=True,
    )
