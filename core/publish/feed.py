"""A key's finished books as a podcast feed: RSS 2.0 with the iTunes tags podcast apps read,
and Podcasting 2.0 chapters (core/publish/chapters_json.py).

Each book is an episode: its audio file as the enclosure (URL, exact length in bytes, media
type), its duration, cover, description and a link to its chapters. The feed is private (its
URL carries a secret), so it asks directories not to list it (``itunes:block``).

Pure: the caller gives every URL and number; this only writes them as XML.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from xml.etree import ElementTree

from core.publish.chapters_json import CHAPTERS_MEDIA_TYPE

RSS_MEDIA_TYPE = "application/rss+xml"
ITUNES_NS = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST_NS = "https://podcastindex.org/namespace/1.0"
ATOM_NS = "http://www.w3.org/2005/Atom"
# Apple's category for books read aloud
CATEGORY, SUBCATEGORY = "Arts", "Books"
# The newest books a feed lists: a feed is fetched whole, over and over, by every app
MAX_EPISODES = 500


@dataclass(frozen=True)
class Episode:
    """One finished book."""

    guid: str  # stable for the book: apps tell episodes apart by it
    title: str
    description: str
    published_at: datetime
    audio_url: str
    audio_bytes: int
    media_type: str
    duration_seconds: float | None = None
    author: str | None = None
    image_url: str | None = None
    chapters_url: str | None = None


@dataclass(frozen=True)
class Channel:
    """The feed itself."""

    title: str
    description: str
    link: str  # the site the feed belongs to
    self_url: str  # where the feed is fetched from
    author: str
    image_url: str | None = None


def _xml_char(char: str) -> bool:
    # XML 1.0 allows tab, newline, carriage return and everything from space on except the
    # surrogates and U+FFFE, U+FFFF; any other character makes the whole feed unreadable
    code = ord(char)
    if code < 0x20:
        return char in "\t\n\r"
    return not (0xD800 <= code <= 0xDFFF or code in (0xFFFE, 0xFFFF))


def xml_text(text: str) -> str:
    """``text`` without the characters XML 1.0 cannot carry."""
    if all(_xml_char(c) for c in text):
        return text
    return "".join(c for c in text if _xml_char(c))


def rfc822(moment: datetime) -> str:
    """A date as RSS writes it: ``Tue, 02 Jan 2024 15:04:05 +0000``."""
    if moment.tzinfo is None:  # stored in UTC
        moment = moment.replace(tzinfo=UTC)
    return format_datetime(moment.astimezone(UTC))


def itunes_duration(seconds: float) -> str:
    """``H:MM:SS``, what itunes:duration reads."""
    whole = max(0, round(seconds))
    return f"{whole // 3600}:{whole % 3600 // 60:02d}:{whole % 60:02d}"


def spoken_length(seconds: float) -> str:
    """A duration as a listener reads it: ``3 h 05 min``, ``12 min``, ``40 s``."""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s"
    minutes = round(whole / 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def book_description(
    *,
    title: str,
    author: str | None,
    voice: str,
    duration_seconds: float | None,
    chapters: Sequence[str] | None,
    book_info: dict | None,
) -> str:
    """The book's own description (its ``book_info``) if it has one, else one made from what is
    known about it: title, author, series, year, ISBN, voice, length and chapters."""
    info = book_info or {}
    own = info.get("description")
    if isinstance(own, str) and own.strip():
        return own.strip()
    sentences = [f"{title}, by {author}." if author else f"{title}."]
    series = info.get("series")
    if isinstance(series, str) and series.strip():
        index = info.get("series_index")
        sentences.append(f"Book {index} of {series}." if index else f"Part of {series}.")
    if info.get("year"):
        sentences.append(f"Published {info['year']}.")
    if info.get("isbn"):
        sentences.append(f"ISBN {info['isbn']}.")
    heard = f"Read aloud with the voice {voice}"
    if duration_seconds:
        heard += f", {spoken_length(duration_seconds)}"
    if chapters:
        heard += f", in {len(chapters)} chapter{'s' if len(chapters) != 1 else ''}"
    sentences.append(heard + ".")
    return " ".join(sentences)


def _add(parent: ElementTree.Element, tag: str, content: str | None = None, /, **attributes: str):
    element = ElementTree.SubElement(
        parent, tag, {name: xml_text(value) for name, value in attributes.items()}
    )
    if content is not None:
        element.text = xml_text(content)
    return element


def _image(parent: ElementTree.Element, url: str) -> None:
    _add(parent, "itunes:image", href=url)


def _channel(rss: ElementTree.Element, channel: Channel, built_at: datetime):
    element = _add(rss, "channel")
    _add(element, "title", channel.title)
    _add(element, "link", channel.link)
    _add(element, "description", channel.description)
    _add(element, "atom:link", href=channel.self_url, rel="self", type=RSS_MEDIA_TYPE)
    _add(element, "lastBuildDate", rfc822(built_at))
    _add(element, "generator", "kokoro-queue")
    _add(element, "itunes:author", channel.author)
    _add(element, "itunes:summary", channel.description)
    _add(element, "itunes:explicit", "false")
    _add(element, "itunes:type", "episodic")
    # Private: the URL is a secret, and directories must not list it
    _add(element, "itunes:block", "Yes")
    category = _add(element, "itunes:category", text=CATEGORY)
    _add(category, "itunes:category", text=SUBCATEGORY)
    if channel.image_url:
        _image(element, channel.image_url)
        image = _add(element, "image")
        _add(image, "url", channel.image_url)
        _add(image, "title", channel.title)
        _add(image, "link", channel.link)
    return element


def _item(parent: ElementTree.Element, episode: Episode) -> None:
    item = _add(parent, "item")
    _add(item, "title", episode.title)
    _add(item, "guid", episode.guid, isPermaLink="false")
    _add(item, "pubDate", rfc822(episode.published_at))
    _add(item, "description", episode.description)
    _add(item, "itunes:summary", episode.description)
    _add(
        item,
        "enclosure",
        url=episode.audio_url,
        length=str(episode.audio_bytes),
        type=episode.media_type,
    )
    _add(item, "itunes:title", episode.title)
    if episode.author:
        _add(item, "itunes:author", episode.author)
    if episode.duration_seconds is not None:
        _add(item, "itunes:duration", itunes_duration(episode.duration_seconds))
    _add(item, "itunes:explicit", "false")
    _add(item, "itunes:episodeType", "full")
    if episode.image_url:
        _image(item, episode.image_url)
    if episode.chapters_url:
        _add(item, "podcast:chapters", url=episode.chapters_url, type=CHAPTERS_MEDIA_TYPE)


def build_feed(
    channel: Channel, episodes: Iterable[Episode], built_at: datetime | None = None
) -> bytes:
    """The feed as UTF-8 XML bytes, episodes in the order given (newest first, as apps expect)."""
    rss = ElementTree.Element(
        "rss",
        {
            "version": "2.0",
            "xmlns:itunes": ITUNES_NS,
            "xmlns:podcast": PODCAST_NS,
            "xmlns:atom": ATOM_NS,
        },
    )
    element = _channel(rss, channel, built_at or datetime.now(UTC))
    for episode in episodes:
        _item(element, episode)
    return ElementTree.tostring(rss, encoding="utf-8", xml_declaration=True)
