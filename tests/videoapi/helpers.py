"""Shared values and small readers for the client's tests."""

from __future__ import annotations

import re
import socket
from dataclasses import dataclass, field
from typing import Any

import httpx

BASE_URL = "https://videos.test/v1"
API_KEY = "sk-test-7f3a9c41-do-not-leak"
# A public address for the storage host redirects go to (nothing is sent to it: the transport
# is a mock).
STORAGE_HOST = "storage.test"
STORAGE_IP = "93.184.216.34"


def video_json(**overrides: Any) -> dict[str, Any]:
    video: dict[str, Any] = {
        "id": "video_123",
        "object": "video",
        "model": "sora-2",
        "status": "queued",
        "progress": 0,
        "created_at": 1_712_697_600,
        "completed_at": None,
        "expires_at": None,
        "prompt": "a calico cat playing a piano",
        "size": "720x1280",
        "seconds": "4",
        "remixed_from_video_id": None,
        "error": None,
    }
    return video | overrides


def error_json(message: str, *, code: Any = None, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": code}
    }


class RecordingSleep:
    """Stands in for asyncio.sleep: remembers each delay and returns at once."""

    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, delay: float) -> None:
        self.delays.append(delay)


@dataclass
class FakeDNS:
    """Stands in for the system resolver: the names it knows, and every lookup it was asked."""

    names: dict[str, list[str]] = field(default_factory=lambda: {STORAGE_HOST: [STORAGE_IP]})
    asked: list[str] = field(default_factory=list)

    async def __call__(self, host: str, port: int) -> list[str]:
        self.asked.append(host)
        if host not in self.names:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return self.names[host]


@dataclass(frozen=True)
class FormPart:
    filename: str | None
    content_type: str | None
    data: bytes


def form_parts(request: httpx.Request) -> dict[str, FormPart]:
    """The parts of a multipart/form-data request, by field name (binary-safe)."""
    content_type = request.headers["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    boundary = content_type.split("boundary=", 1)[1].encode()
    parts: dict[str, FormPart] = {}
    for chunk in request.content.split(b"--" + boundary)[1:-1]:
        head, _, data = chunk[2:-2].partition(b"\r\n\r\n")
        headers = head.decode()
        name = re.search(r'name="([^"]*)"', headers)
        filename = re.search(r'filename="([^"]*)"', headers)
        part_type = re.search(r"(?im)^content-type: (.+)$", headers)
        assert name is not None
        parts[name.group(1)] = FormPart(
            filename.group(1) if filename else None,
            part_type.group(1).strip() if part_type else None,
            data,
        )
    return parts
