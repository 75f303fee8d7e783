"""TXT look-ups for custom-domain verification (dnspython); tests replace ``lookup_txt``."""

from __future__ import annotations


class DnsLookupError(Exception):
    pass


def lookup_txt(name: str) -> list[str]:
    import dns.exception
    import dns.resolver

    try:
        answer = dns.resolver.resolve(name, "TXT", lifetime=5.0)
    except dns.resolver.NXDOMAIN:
        return []
    except dns.resolver.NoAnswer:
        return []
    except dns.exception.DNSException as exc:
        raise DnsLookupError(f"DNS lookup for {name} failed: {exc.__class__.__name__}") from exc
    return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
