"""Calendar invitations (RFC 5545/5546) written by hand: one VEVENT, METHOD:REQUEST, or
METHOD:CANCEL with STATUS:CANCELLED when the panel is called off.

- Lines end with CRLF and are folded at 75 octets (never inside a UTF-8 character).
- TEXT values escape backslash, semicolon, comma and newlines.
- DTSTAMP is always UTC. DTSTART/DTEND are UTC (``…Z``) when the zone is UTC, otherwise local
  times with ``TZID=<IANA name>`` and a VTIMEZONE built from the zone's real offset changes
  in the years around the event (from ``zoneinfo``), so calendars that do not know the name
  still place the meeting correctly.
- UID is stable per panel; SEQUENCE goes up when the panel is rescheduled or cancelled, so a
  calendar updates (or removes) the event instead of adding a second one.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

CRLF = "\r\n"
PRODID = "-//Viva//Interview panels//EN"


@dataclass(frozen=True)
class Attendee:
    email: str
    name: str = ""
    role: str = "REQ-PARTICIPANT"  # RFC 5545 ROLE


@dataclass(frozen=True)
class CalendarEvent:
    uid: str
    start: datetime  # aware
    end: datetime  # aware
    summary: str
    organizer: Attendee
    attendees: tuple[Attendee, ...]
    tzid: str = "UTC"
    description: str = ""
    location: str = ""
    sequence: int = 0
    stamp: datetime | None = None
    cancelled: bool = False


def escape_text(value: str) -> str:
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\n")
    )


def _param(value: str) -> str:
    """A parameter value: quoted, with characters a quoted value cannot hold removed."""
    cleaned = "".join(ch for ch in value if ch not in '"\r\n' and (ch >= " " or ch == "\t"))
    return f'"{cleaned}"'


def fold(line: str) -> str:
    """Fold one content line into chunks of at most 75 octets, continuation lines starting
    with a space (RFC 5545 §3.1)."""
    out: list[str] = []
    current = ""
    size = 0
    limit = 75
    for ch in line:
        width = len(ch.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += ch
        size += width
    out.append(current)
    return CRLF.join(out)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def _local(value: datetime, zone: ZoneInfo) -> str:
    return value.astimezone(zone).strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    seconds = int((delta or timedelta(0)).total_seconds())
    sign = "+" if seconds >= 0 else "-"
    seconds = abs(seconds)
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}{minutes:02d}" + (f"{secs:02d}" if secs else "")


def _transitions(zone: ZoneInfo, start: datetime, end: datetime) -> list[datetime]:
    """UTC instants in [start, end) where the zone's offset changes (to the minute)."""
    found = []
    step = timedelta(hours=6)
    t = start
    before = t.astimezone(zone).utcoffset()
    while t < end:
        nxt = t + step
        after = nxt.astimezone(zone).utcoffset()
        if after != before:
            low, high = t, nxt
            while high - low > timedelta(minutes=1):
                mid = low + (high - low) / 2
                if mid.astimezone(zone).utcoffset() == before:
                    low = mid
                else:
                    high = mid
            found.append(high.replace(second=0, microsecond=0))
        t, before = nxt, after
    return found


def vtimezone(tzid: str, around: datetime) -> list[str]:
    """A VTIMEZONE for ``tzid`` with every offset change from the year before ``around`` to
    the year after, each as its own STANDARD or DAYLIGHT observance."""
    zone = ZoneInfo(tzid)
    start = datetime(around.year - 1, 1, 1, tzinfo=UTC)
    end = datetime(around.year + 2, 1, 1, tzinfo=UTC)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{tzid}"]
    changes = _transitions(zone, start, end)
    if not changes:
        at = start.astimezone(zone)
        offset = _offset(at.utcoffset())
        lines += [
            "BEGIN:STANDARD",
            f"DTSTART:{(start - timedelta(days=366)).strftime('%Y%m%dT%H%M%S')}",
            f"TZOFFSETFROM:{offset}",
            f"TZOFFSETTO:{offset}",
            f"TZNAME:{escape_text(at.tzname() or tzid)}",
            "END:STANDARD",
        ]
    for instant in changes:
        old = (instant - timedelta(minutes=1)).astimezone(zone)
        new = instant.astimezone(zone)
        kind = "DAYLIGHT" if new.dst() else "STANDARD"
        local_start = (instant + (old.utcoffset() or timedelta(0))).strftime("%Y%m%dT%H%M%S")
        lines += [
            f"BEGIN:{kind}",
            f"DTSTART:{local_start}",
            f"TZOFFSETFROM:{_offset(old.utcoffset())}",
            f"TZOFFSETTO:{_offset(new.utcoffset())}",
            f"TZNAME:{escape_text(new.tzname() or tzid)}",
            f"END:{kind}",
        ]
    lines.append("END:VTIMEZONE")
    return lines


def _person(prop: str, person: Attendee, extra: Iterable[str] = ()) -> str:
    params = [f"CN={_param(person.name or person.email)}", *extra]
    return f"{prop};{';'.join(params)}:mailto:{person.email}"


def build_calendar(event: CalendarEvent) -> str:
    """The whole ``text/calendar`` document for ``event`` (CRLF line ends, folded)."""
    if event.start.tzinfo is None or event.end.tzinfo is None:
        raise ValueError("event times must be aware")
    if event.end <= event.start:
        raise ValueError("the event must end after it starts")
    stamp = event.stamp or datetime.now(UTC)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:{PRODID}", "CALSCALE:GREGORIAN"]
    lines.append("METHOD:CANCEL" if event.cancelled else "METHOD:REQUEST")
    in_utc = event.tzid in ("UTC", "Etc/UTC", "GMT", "")
    if not in_utc:
        lines += vtimezone(event.tzid, event.start)
    lines += ["BEGIN:VEVENT", f"UID:{event.uid}", f"DTSTAMP:{_utc(stamp)}"]
    if in_utc:
        lines += [f"DTSTART:{_utc(event.start)}", f"DTEND:{_utc(event.end)}"]
    else:
        zone = ZoneInfo(event.tzid)
        lines += [
            f"DTSTART;TZID={event.tzid}:{_local(event.start, zone)}",
            f"DTEND;TZID={event.tzid}:{_local(event.end, zone)}",
        ]
    lines += [
        f"SEQUENCE:{event.sequence}",
        f"SUMMARY:{escape_text(event.summary)}",
        "STATUS:CANCELLED" if event.cancelled else "STATUS:CONFIRMED",
        "TRANSP:OPAQUE",
    ]
    if event.description:
        lines.append(f"DESCRIPTION:{escape_text(event.description)}")
    if event.location:
        lines.append(f"LOCATION:{escape_text(event.location)}")
    lines.append(_person("ORGANIZER", event.organizer))
    for attendee in event.attendees:
        lines.append(
            _person(
                "ATTENDEE",
                attendee,
                (f"ROLE={attendee.role}", "PARTSTAT=NEEDS-ACTION", "RSVP=TRUE"),
            )
        )
    lines += ["END:VEVENT", "END:VCALENDAR"]
    return "".join(fold(line) + CRLF for line in lines)
