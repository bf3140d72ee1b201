"""AWS Signature Version 4: the ``Authorization`` header of a request, computed purely.

``sign_headers`` takes the request's method, URL, headers and body, the credentials, the
region, the service and the time, and returns the headers to add (``x-amz-date``,
``x-amz-security-token`` for temporary credentials, ``authorization``). It follows AWS's
published algorithm (canonical request, string to sign, derived signing key) and is tested
against AWS's own test vectors. It does no I/O and reads no clock or environment: the
caller passes the time and the credentials.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote, urlsplit

ALGORITHM = "AWS4-HMAC-SHA256"

# Headers that proxies and clients rewrite on the way: signing them would break the
# signature without protecting anything (botocore leaves out the same ones).
_UNSIGNED_HEADERS = frozenset({"user-agent", "expect", "x-amzn-trace-id", "accept-encoding", "connection"})


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def _canonical_query(query: str) -> str:
    pairs = parse_qsl(query, keep_blank_values=True)
    encoded = sorted((quote(name, safe="-_.~"), quote(value, safe="-_.~")) for name, value in pairs)
    return "&".join(f"{name}={value}" for name, value in encoded)


def _canonical_path(path: str) -> str:
    # Every service but S3 signs the path URI-encoded once more than it is sent: the
    # "%3A" of a Bedrock model id is signed as "%253A".
    return quote(path or "/", safe="/~")


def signing_key(secret_access_key: str, date: str, region: str, service: str) -> bytes:
    """The key derived for one day, region and service (``kSigning`` in AWS's documentation)."""
    key = _hmac(f"AWS4{secret_access_key}".encode(), date)
    key = _hmac(key, region)
    key = _hmac(key, service)
    return _hmac(key, "aws4_request")


def sign_headers(
    *,
    method: str,
    url: str,
    headers: Mapping[str, str],
    body: bytes,
    access_key_id: str,
    secret_access_key: str,
    session_token: str | None,
    region: str,
    service: str,
    now: datetime,
) -> dict[str, str]:
    """The headers that sign this request: ``x-amz-date``, maybe ``x-amz-security-token``, ``authorization``.

    Args:
        method: The HTTP method.
        url: The URL as sent (path already percent-encoded, query included).
        headers: The request's headers; ``host`` is taken from ``url`` when absent.
        body: The exact bytes sent.
        access_key_id: The key id named in the credential scope.
        secret_access_key: The secret the signing key is derived from.
        session_token: For temporary credentials; sent as ``x-amz-security-token`` and signed.
        region: The region of the credential scope, e.g. ``us-east-1``.
        service: The service of the credential scope, e.g. ``bedrock``.
        now: The signing time (converted to UTC).
    """
    moment = now.astimezone(UTC)
    amz_date = moment.strftime("%Y%m%dT%H%M%SZ")
    date = amz_date[:8]
    parts = urlsplit(url)
    added = {"x-amz-date": amz_date}
    if session_token:
        added["x-amz-security-token"] = session_token
    signed: dict[str, str] = {}
    for name, value in headers.items():
        lowered = name.lower()
        if lowered not in _UNSIGNED_HEADERS and lowered != "authorization":
            signed[lowered] = " ".join(value.strip().split())
    signed.setdefault("host", parts.netloc)
    signed.update(added)
    names = sorted(signed)
    canonical_headers = "".join(f"{name}:{signed[name]}\n" for name in names)
    signed_headers = ";".join(names)
    canonical_request = "\n".join(
        [
            method.upper(),
            _canonical_path(parts.path),
            _canonical_query(parts.query),
            canonical_headers,
            signed_headers,
            _sha256(body),
        ]
    )
    scope = f"{date}/{region}/{service}/aws4_request"
    string_to_sign = "\n".join([ALGORITHM, amz_date, scope, _sha256(canonical_request.encode("utf-8"))])
    key = signing_key(secret_access_key, date, region, service)
    signature = hmac.new(key, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()
    added["authorization"] = (
        f"{ALGORITHM} Credential={access_key_id}/{scope}, "
        f"SignedHeaders={signed_headers}, Signature={signature}"
    )
    return added
