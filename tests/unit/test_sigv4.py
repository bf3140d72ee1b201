"""SigV4 signing against AWS's published test vectors and botocore's signer."""

from __future__ import annotations

from datetime import UTC, datetime
from unittest import mock

import botocore.auth
import botocore.awsrequest
import botocore.credentials

from reverie.providers.bedrock._sigv4 import sign_headers, signing_key

# From AWS's SigV4 test suite (aws-sig-v4-test-suite): the shared credentials and time.
KEY_ID = "AKIDEXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
VECTOR_TIME = datetime(2015, 8, 30, 12, 36, 0, tzinfo=UTC)
SCOPE = "AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"


def vector(method: str, url: str, headers: dict[str, str] | None = None, body: bytes = b"") -> str:
    signed = sign_headers(
        method=method,
        url=url,
        headers=headers or {"host": "example.amazonaws.com"},
        body=body,
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        session_token=None,
        region="us-east-1",
        service="service",
        now=VECTOR_TIME,
    )
    assert signed["x-amz-date"] == "20150830T123600Z"
    return signed["authorization"]


def test_get_vanilla() -> None:
    assert vector("GET", "https://example.amazonaws.com/") == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host;x-amz-date, "
        "Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    )


def test_post_vanilla() -> None:
    assert vector("POST", "https://example.amazonaws.com/") == (
        f"AWS4-HMAC-SHA256 Credential={SCOPE}, SignedHeaders=host;x-amz-date, "
        "Signature=5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b"
    )


def test_signing_key_derivation_example() -> None:
    # AWS's documented example of the derived key (iam, 20120215, us-east-1).
    key = signing_key("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215", "us-east-1", "iam")
    assert key.hex() == "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"


def botocore_authorization(url: str, headers: dict[str, str], body: bytes, token: str | None) -> str:
    request = botocore.awsrequest.AWSRequest(method="POST", url=url, data=body, headers=headers)
    credentials = botocore.credentials.Credentials(KEY_ID, SECRET, token)
    moment = datetime(2025, 1, 2, 3, 4, 5)
    with mock.patch.object(botocore.auth, "get_current_datetime", return_value=moment):
        botocore.auth.SigV4Auth(credentials, "bedrock", "us-east-1").add_auth(request)
    return request.headers["Authorization"]


def test_a_bedrock_request_is_signed_as_botocore_signs_it() -> None:
    # The model id's ":" is sent as %3A and signed encoded once more, as botocore does.
    url = "https://bedrock-runtime.us-east-1.amazonaws.com/model/us.anthropic.claude-sonnet-4-5-20250929-v1%3A0/invoke"
    headers = {"content-type": "application/json", "accept": "application/json"}
    body = b'{"anthropic_version":"bedrock-2023-05-31","max_tokens":10}'
    for token in (None, "session-token"):
        ours = sign_headers(
            method="POST",
            url=url,
            headers=headers,
            body=body,
            access_key_id=KEY_ID,
            secret_access_key=SECRET,
            session_token=token,
            region="us-east-1",
            service="bedrock",
            now=datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        )
        assert ours["authorization"] == botocore_authorization(url, headers, body, token)
        assert ours.get("x-amz-security-token") == token


def test_user_agent_is_not_signed_and_header_values_are_trimmed() -> None:
    signed = sign_headers(
        method="POST",
        url="https://example.amazonaws.com/a?b=2&a=1",
        headers={"User-Agent": "reverie", "X-Custom": "  two   words "},
        body=b"",
        access_key_id=KEY_ID,
        secret_access_key=SECRET,
        session_token=None,
        region="us-east-1",
        service="service",
        now=VECTOR_TIME,
    )
    assert "SignedHeaders=host;x-amz-date;x-custom," in signed["authorization"]
