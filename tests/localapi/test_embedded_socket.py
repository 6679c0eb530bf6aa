"""The embedded server's listening socket must say TCP, or asyncio leaves Nagle on for every connection."""

from __future__ import annotations

import socket
from pathlib import Path

from ftops.localapi.config import ServerConfig
from ftops.localapi.embedded import serve_config


def test_listening_socket_is_tcp_so_accepted_connections_get_nodelay(tmp_path: Path) -> None:
    _server, sock = serve_config(ServerConfig(state_dir=tmp_path, api_key="k", speed=1.0))
    try:
        # asyncio's transports call _set_nodelay only for IPPROTO_TCP sockets; accepted sockets inherit proto.
        assert sock.proto == socket.IPPROTO_TCP
    finally:
        sock.close()
