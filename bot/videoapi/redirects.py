"""Where a provider's redirect may send the client: never to this machine or its private networks.

A provider that redirects a download to `http://127.0.0.1:…` or `http://169.254.169.254/` would
have the bot fetch what only the bot can reach (its own services, the cloud's metadata) and post
it to Discord. So a redirect's host is resolved first and refused when any address it names is
not a public unicast one (loopback, private, link-local, shared, reserved, multicast), and the
request then goes to the address that was checked, not to a second lookup that could answer
otherwise (DNS rebinding); HTTPS still verifies the certificate against the host's name.

The configured base URL's own host is exempt. The operator chose it, the simulator and the tests
run there on loopback, and a server on that host can read whatever that host serves without our
help, so following it there shows Discord nothing its operator could not already send.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Awaitable, Callable

import httpx

from bot.videoapi.errors import APIConnectionError, RedirectRefusedError

# The addresses a host name resolves to (for the port given), as text.
Resolver = Callable[[str, int], Awaitable[list[str]]]
DEFAULT_PORTS = {"http": 80, "https": 443}


async def resolve_host(host: str, port: int) -> list[str]:
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return [str(info[4][0]) for info in infos]


def is_public(address: str) -> bool:
    # An IPv6 link-local address may carry its interface (`fe80::1%eth0`).
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_global and not ip.is_multicast


class RedirectGuard:
    """Checks each redirect of a client whose configured host is `trusted_host`."""

    def __init__(self, trusted_host: str, resolve: Resolver = resolve_host) -> None:
        self._trusted = trusted_host.lower()
        self._resolve = resolve

    async def check(self, request: httpx.Request) -> None:
        """Let `request` (a redirect) go, pinned to the address checked, or refuse it."""
        url = request.url
        host = url.host.lower()
        if url.scheme not in DEFAULT_PORTS:
            raise RedirectRefusedError(f"the provider redirected to a {url.scheme} URL")
        if host == self._trusted:
            return
        try:
            addresses = [str(ipaddress.ip_address(host))]
        except ValueError:
            try:
                addresses = await self._resolve(host, url.port or DEFAULT_PORTS[url.scheme])
            except OSError as exc:
                raise APIConnectionError(f"could not resolve the redirect's host ({exc})") from exc
        if not addresses or not all(is_public(address) for address in addresses):
            raise RedirectRefusedError(
                "the provider redirected to a private or local address, which the bot never "
                "fetches from"
            )
        if addresses[0] != host:
            # httpx set the Host header from the name when it built the redirect; TLS checks
            # the certificate against `sni_hostname`.
            request.url = url.copy_with(host=addresses[0])
            request.extensions = {**request.extensions, "sni_hostname": host}
