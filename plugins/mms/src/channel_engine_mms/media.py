"""Media segments: the kinds a host may send and the MIME type each travels with.

Infobip's LINK segment takes `contentUrl` and an optional `contentType`. We send the type the host gave, or
the one the URL's file extension names; with neither, Infobip goes by what the media server answers. The
extensions are the formats Infobip recommends for MMS (JPEG, GIF and PNG images; MP4, MPEG and 3GP video;
MP3, MP4, MIDI and WAV audio; PDF, vCard, iCalendar and plain-text files).
"""

from __future__ import annotations

import posixpath
import re
from urllib.parse import urlsplit

TEXT = "text"
MEDIA_KINDS = ("image", "video", "audio", "file")
SEGMENT_TYPES = (TEXT, *MEDIA_KINDS)

EXTENSIONS: dict[str, dict[str, str]] = {
    "image": {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png", "gif": "image/gif",
              "bmp": "image/bmp"},
    "video": {"mp4": "video/mp4", "mpeg": "video/mpeg", "mpg": "video/mpeg", "3gp": "video/3gpp",
              "3g2": "video/3gpp2", "mov": "video/quicktime"},
    "audio": {"mp3": "audio/mpeg", "m4a": "audio/mp4", "mp4": "audio/mp4", "mid": "audio/midi",
              "midi": "audio/midi", "wav": "audio/wav", "amr": "audio/amr", "aac": "audio/aac",
              "3gp": "audio/3gpp", "ogg": "audio/ogg"},
    "file": {"pdf": "application/pdf", "vcf": "text/vcard", "ics": "text/calendar", "txt": "text/plain",
             "pkpass": "application/vnd.apple.pkpass"},
}  # fmt: skip

# type/subtype, optionally followed by parameters ("text/plain; charset=utf-8").
MIME_TYPE = re.compile(r"[a-z]+/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;.*)?", re.IGNORECASE)


def extension(url: str) -> str:
    """The file extension of the URL's path, lower-case, without the dot ("" when there is none)."""
    return posixpath.splitext(urlsplit(url).path)[1].lstrip(".").lower()


def content_type_for(kind: str, url: str) -> str | None:
    """The MIME type the URL's extension names for this kind of media, or None. A file may be of any kind:
    a picture sent as a file keeps its image type."""
    ext = extension(url)
    tables = [EXTENSIONS[kind]] if kind != "file" else [EXTENSIONS["file"], *EXTENSIONS.values()]
    return next((table[ext] for table in tables if ext in table), None)


def kinds_of_extension(url: str) -> list[str]:
    """Every kind of media whose files end like this URL."""
    ext = extension(url)
    return [kind for kind, table in EXTENSIONS.items() if ext in table]


def fits_kind(kind: str, content_type: str) -> bool:
    """An image must be image/*, a video video/*, an audio audio/*; a file may be any type."""
    return kind == "file" or content_type.lower().startswith(f"{kind}/")


def segment_content_type(segment: dict) -> str | None:
    """The type a validated media segment travels with: the host's, else the one its URL's extension names."""
    return segment.get("contentType") or content_type_for(segment["type"], segment["url"])
