"""Scripted HTTP servers on loopback for fetch tests: plain or TLS, port 0, address read back.

A server runs one handler per connection and records what it saw: the connections it accepted
and every byte each one sent, so a test can assert that nothing was (or was) requested.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Awaitable, Callable
from pathlib import Path
from types import TracebackType
from typing import Any

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter, "Server"], Awaitable[None]]


class Server:
    """``async with Server(handler) as s:`` then connect to ``s.endpoint``."""

    def __init__(self, handler: Handler, *, tls: ssl.SSLContext | None = None) -> None:
        self.handler = handler
        self.tls = tls
        self.connections = 0
        self.received: list[bytes] = []
        """Per connection, every byte read by :meth:`read_request` / :meth:`read_all`."""
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._slot: dict[asyncio.Task[Any], int] = {}
        self.port = 0

    @property
    def endpoint(self) -> tuple[str, int]:
        return ("127.0.0.1", self.port)

    async def __aenter__(self) -> Server:
        self._server = await asyncio.start_server(self._on_connection, "127.0.0.1", 0, ssl=self.tls)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._server is not None
        self._server.close()
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._server.wait_closed()

    async def _on_connection(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)
        self.connections += 1
        self._slot[task] = len(self.received)
        self.received.append(b"")
        try:
            await self.handler(reader, writer, self)
        except (ConnectionError, ssl.SSLError, asyncio.IncompleteReadError):
            pass
        except asyncio.CancelledError:
            pass  # cancelled by __aexit__; ending normally keeps 3.11's stream callback quiet
        finally:
            writer.transport.abort()
            self._tasks.discard(task)

    async def read_request(self, reader: asyncio.StreamReader) -> bytes:
        """The request head (through the blank line), recorded."""
        head = await reader.readuntil(b"\r\n\r\n")
        self._record(head)
        return head

    async def read_all(self, reader: asyncio.StreamReader) -> bytes:
        """Everything until the client closes, recorded."""
        data = b""
        with contextlib.suppress(ConnectionError, ssl.SSLError):
            data = await reader.read()
        self._record(data)
        return data

    def _record(self, data: bytes) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.received[self._slot[task]] += data


def reply(raw: bytes, *, abort: bool = False) -> Handler:
    """A handler that reads the request, sends ``raw`` and closes (abort: without TLS close_notify
    or FIN handshake niceties)."""

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, server: Server) -> None:
        await server.read_request(reader)
        writer.write(raw)
        await writer.drain()
        if not abort:
            writer.close()
            with contextlib.suppress(ConnectionError, ssl.SSLError):
                await writer.wait_closed()

    return handler


def tls_server_context(chain: Path, key: Path) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(chain, key)
    return ctx


class ConnectSpy:
    """Records every ``loop.create_connection`` call: proof of where fetch connected, or that it
    did not connect at all."""

    def __init__(self) -> None:
        self.calls: list[tuple[Any, Any]] = []
        loop = asyncio.get_running_loop()
        original = loop.create_connection

        async def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((args[1] if len(args) > 1 else kwargs.get("host"),
                               args[2] if len(args) > 2 else kwargs.get("port")))
            return await original(*args, **kwargs)

        loop.create_connection = spy  # type: ignore[method-assign]
