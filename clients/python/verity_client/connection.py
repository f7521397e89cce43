"""One TLS connection to verityd that many threads share.

Frames are a 4-byte big-endian length and that many bytes of UTF-8 JSON. Requests are written
under a writer lock; a background reader thread reads every response frame and completes the
pending call with that id. TLS runs over memory BIOs (:class:`ssl.SSLObject`) so that every
OpenSSL call happens under one lock, while the blocking socket reads and writes happen outside
it: an ``SSLSocket`` must not be read and written from two threads at once.

This module is internal; use :class:`verity_client.Client`.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from typing import Any, Callable, Dict, Optional

from .errors import ConnectionLost, DeadlineExceeded, ProtocolViolation, ResourceExhausted, VerityError

ALPN_PROTOCOL = "verity/1"

#: Largest response frame accepted. The server never sends more than its own maxFrameBytes
#: (65536 unless configured); this bound only protects the client from a broken peer.
MAX_RESPONSE_FRAME_BYTES = 16 * 1024 * 1024

_READ_CHUNK = 65536
_HEADER = struct.Struct(">I")


class NotSent(Exception):
    """Internal: the connection was already unusable before any byte of the request was written.

    ``error`` is the :class:`ConnectionLost` (``sent`` False) that says why it became unusable.
    """

    def __init__(self, error: ConnectionLost) -> None:
        super().__init__(error.message)
        self.error = error


def encode_frame(envelope: Dict[str, Any]) -> bytes:
    """The frame body (UTF-8 JSON, no length) for a request envelope."""
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode("utf-8")


class _Slot:
    __slots__ = ("event", "response", "error")

    def __init__(self) -> None:
        self.event = threading.Event()
        self.response: Optional[Dict[str, Any]] = None
        self.error: Optional[VerityError] = None


class Connection:
    """A connected, handshaken TLS connection and its reader thread."""

    def __init__(
        self,
        sock: socket.socket,
        sslobj: ssl.SSLObject,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        *,
        peer: str,
        max_in_flight: int,
        max_frame_bytes: int,
    ) -> None:
        self._sock = sock
        self._ssl = sslobj
        self._incoming = incoming
        self._outgoing = outgoing
        self._peer = peer
        self._max_frame_bytes = max_frame_bytes
        self._ssl_lock = threading.Lock()  # every call into the SSLObject and its BIOs
        self._send_lock = threading.Lock()  # one frame at a time on the socket
        self._pending_lock = threading.Lock()
        self._pending: Dict[int, _Slot] = {}
        self._in_flight = threading.BoundedSemaphore(max_in_flight)
        self._dead = False
        self._answered = 0
        self._reason: Optional[Callable[[], VerityError]] = None  # set by close()
        self._failure: Optional[Callable[[], VerityError]] = None  # why the connection ended
        self._reader = threading.Thread(target=self._read_loop, name=f"verity-reader-{peer}", daemon=True)
        self._reader.start()

    # ----------------------------------------------------------------------------------------
    # Opening

    @classmethod
    def open(
        cls,
        host: str,
        port: int,
        context: ssl.SSLContext,
        *,
        server_hostname: str,
        connect_timeout: float,
        max_in_flight: int = 256,
        max_frame_bytes: int = 65536,
    ) -> "Connection":
        """Connects and completes the TLS handshake, or raises :class:`ConnectionLost`."""
        peer = f"{host}:{port}"
        try:
            sock = socket.create_connection((host, port), timeout=connect_timeout)
        except OSError as error:
            raise ConnectionLost(f"cannot connect to {peer}: {_describe(error)}", sent=False) from None
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
            sslobj = context.wrap_bio(incoming, outgoing, server_side=False, server_hostname=server_hostname)
            deadline = time.monotonic() + connect_timeout
            while True:
                try:
                    sslobj.do_handshake()
                    break
                except ssl.SSLWantReadError:
                    pass
                data = outgoing.read()
                if data:
                    sock.sendall(data)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise socket.timeout("the TLS handshake timed out")
                sock.settimeout(remaining)
                data = sock.recv(_READ_CHUNK)
                if data:
                    incoming.write(data)
                else:
                    incoming.write_eof()
            data = outgoing.read()
            if data:
                sock.sendall(data)
            selected = sslobj.selected_alpn_protocol()
            if selected not in (None, ALPN_PROTOCOL):
                raise ssl.SSLError(f"the server chose ALPN protocol {selected!r}, not {ALPN_PROTOCOL!r}")
            sock.settimeout(None)
        except (OSError, ssl.SSLError) as error:
            sock.close()
            raise ConnectionLost(f"TLS handshake with {peer} failed: {_describe(error)}", sent=False) from None
        except BaseException:
            sock.close()
            raise
        return cls(
            sock, sslobj, incoming, outgoing, peer=peer, max_in_flight=max_in_flight, max_frame_bytes=max_frame_bytes
        )

    # ----------------------------------------------------------------------------------------
    # State

    @property
    def dead(self) -> bool:
        """True once the connection can carry no more requests."""
        return self._dead

    @property
    def answered(self) -> int:
        """How many answers the connection has delivered."""
        return self._answered

    @property
    def tls_version(self) -> Optional[str]:
        return self._ssl.version()

    @property
    def alpn_protocol(self) -> Optional[str]:
        return self._ssl.selected_alpn_protocol()

    # ----------------------------------------------------------------------------------------
    # Calls

    def call(self, request_id: int, envelope: Dict[str, Any], deadline: float) -> Dict[str, Any]:
        """Sends ``envelope`` with ``request_id`` and returns the response envelope.

        Raises :class:`NotSent` when the connection was unusable before anything was written;
        :class:`ConnectionLost` or :class:`ProtocolViolation` when it ended before the answer;
        :class:`DeadlineExceeded` when no answer came by ``deadline`` (``time.monotonic()``).
        """
        body = encode_frame({"id": request_id, **{k: v for k, v in envelope.items() if k != "id"}})
        if len(body) > self._max_frame_bytes:
            raise ResourceExhausted(
                f"request frame of {len(body)} bytes exceeds the limit of {self._max_frame_bytes}",
                {"reason": "FRAME_TOO_LARGE", "maxFrameBytes": self._max_frame_bytes, "local": True},
            )
        if self._dead:
            raise self._not_sent()
        if not self._in_flight.acquire(timeout=_remaining(deadline)):
            raise DeadlineExceeded(
                f"no room to send within the deadline ({self._peer} has too many calls in flight)",
                {"local": True},
            )
        slot = _Slot()
        with self._pending_lock:
            if self._dead:
                self._in_flight.release()
                raise self._not_sent()
            self._pending[request_id] = slot
        try:
            self._write(_HEADER.pack(len(body)) + body, deadline)
        except NotSent:
            self._forget(request_id)
            raise
        except DeadlineExceeded:
            self._forget(request_id)
            raise
        except (OSError, ssl.SSLError) as error:
            # The server may have closed after a protocol violation: its error frame may still
            # be on its way, so give the reader a moment to deliver it before giving up.
            message = f"writing to {self._peer} failed: {_describe(error)}"
            if self._failure is None:
                self._failure = lambda: ConnectionLost(message)
            self._dead = True
            if not slot.event.wait(timeout=min(2.0, _remaining(deadline))):
                self._fail_all(lambda: ConnectionLost(message))
                self._shutdown_socket()
        if not slot.event.wait(timeout=_remaining(deadline)):
            # The slot stays registered: a late answer is read and dropped, and only then (or when
            # the connection ends) does its place among the calls in flight become free.
            raise DeadlineExceeded(f"no answer from {self._peer} within the deadline", {"local": True})
        if slot.error is not None:
            raise slot.error
        assert slot.response is not None
        return slot.response

    def _forget(self, request_id: int) -> None:
        with self._pending_lock:
            slot = self._pending.pop(request_id, None)
        if slot is not None:
            self._in_flight.release()

    def _write(self, data: bytes, deadline: float) -> None:
        if not self._send_lock.acquire(timeout=_remaining(deadline)):
            raise DeadlineExceeded(f"could not send to {self._peer} within the deadline", {"local": True})
        try:
            if self._dead:
                raise self._not_sent()
            with self._ssl_lock:
                self._ssl.write(data)
                out = self._outgoing.read()
            while out:
                self._sock.sendall(out)
                with self._ssl_lock:
                    out = self._outgoing.read()
        finally:
            self._send_lock.release()

    def _flush_from_reader(self) -> None:
        """Sends TLS records that reading produced (e.g. a key update), if no writer is busy.

        A busy writer sends them itself: it drains the outgoing buffer after each write. The
        reader never blocks on the writer lock, so a stalled writer cannot stop the reading.
        """
        if not self._send_lock.acquire(blocking=False):
            return
        try:
            with self._ssl_lock:
                out = self._outgoing.read()
            while out:
                self._sock.sendall(out)
                with self._ssl_lock:
                    out = self._outgoing.read()
        finally:
            self._send_lock.release()

    # ----------------------------------------------------------------------------------------
    # Reading

    def _read_tls(self) -> bytes:
        """The next decrypted bytes; ``b""`` at the end of the connection."""
        while True:
            data: Optional[bytes] = None
            with self._ssl_lock:
                try:
                    data = self._ssl.read(_READ_CHUNK)
                except ssl.SSLWantReadError:
                    data = None
                except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                    return b""
                produced = self._outgoing.pending > 0
            if produced:
                self._flush_from_reader()
            if data is not None:
                return data
            network = self._sock.recv(_READ_CHUNK)
            with self._ssl_lock:
                if network:
                    self._incoming.write(network)
                else:
                    self._incoming.write_eof()

    def _read_loop(self) -> None:
        failure: Callable[[], VerityError] = lambda: ConnectionLost(f"the connection to {self._peer} ended")
        buffer = bytearray()
        try:
            while True:
                chunk = self._read_tls()
                if not chunk:
                    message = f"{self._peer} closed the connection"
                    if buffer:
                        message += " in the middle of a frame"
                    failure = lambda: ConnectionLost(message)
                    return
                buffer += chunk
                while len(buffer) >= 4:
                    (length,) = _HEADER.unpack_from(buffer)
                    if length == 0 or length > MAX_RESPONSE_FRAME_BYTES:
                        message = f"{self._peer} sent a frame of {length} bytes; the connection is unusable"
                        failure = lambda: ConnectionLost(message)
                        return
                    if len(buffer) < 4 + length:
                        break
                    body = bytes(buffer[4 : 4 + length])
                    del buffer[: 4 + length]
                    violation = self._dispatch(body)
                    if violation is not None:
                        failure = violation
                        return
        except ssl.SSLError as error:
            # With TLS 1.3 a refused client certificate shows up here, as an alert on the first read.
            message = f"TLS error on the connection to {self._peer}: {_describe(error)}"
            failure = lambda: ConnectionLost(message)
        except OSError as error:
            if not self._dead:
                message = f"the connection to {self._peer} failed: {_describe(error)}"
                failure = lambda: ConnectionLost(message)
        except Exception as error:  # a bug; never leave callers waiting
            message = f"the reader of {self._peer} failed: {type(error).__name__}"
            failure = lambda: ConnectionLost(message)
        finally:
            if self._reason is not None:
                failure = self._reason
            self._failure = failure
            self._dead = True
            self._fail_all(failure)
            self._shutdown_socket()  # also wakes a writer blocked in sendall
            # Close the descriptor only when no writer is using it.
            locked = self._send_lock.acquire(timeout=5.0)
            try:
                self._sock.close()
            except OSError:
                pass
            finally:
                if locked:
                    self._send_lock.release()

    def _dispatch(self, body: bytes) -> Optional[Callable[[], VerityError]]:
        """Completes the call a response frame answers; returns the failure for an id 0 frame."""
        try:
            frame = json.loads(body.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            message = f"{self._peer} sent a frame that is not UTF-8 JSON"
            return lambda: ConnectionLost(message)
        if not isinstance(frame, dict):
            message = f"{self._peer} sent a frame that is not a JSON object"
            return lambda: ConnectionLost(message)
        frame_id = frame.get("id")
        if frame_id == 0 and not isinstance(frame_id, bool):
            status = frame.get("status")
            status = status if isinstance(status, dict) else {}
            return lambda: ProtocolViolation(status)
        if not isinstance(frame_id, int) or isinstance(frame_id, bool):
            return None
        with self._pending_lock:
            slot = self._pending.pop(frame_id, None)
        if slot is None:
            return None  # an answer nobody waits for any more
        slot.response = frame
        self._answered += 1
        slot.event.set()
        self._in_flight.release()
        return None

    def _not_sent(self) -> NotSent:
        """The NotSent for a request refused because the connection is unusable."""
        make_error = self._reason or self._failure
        error = make_error() if make_error is not None else ConnectionLost(f"the connection to {self._peer} ended")
        if isinstance(error, ProtocolViolation):
            message = f"the connection to {self._peer} ended after a protocol violation: {error}"
        else:
            message = error.message
        return NotSent(ConnectionLost(message, error.details, sent=False))

    def _fail_all(self, make_error: Callable[[], VerityError]) -> None:
        with self._pending_lock:
            self._dead = True
            slots = list(self._pending.values())
            self._pending.clear()
        for slot in slots:
            slot.error = make_error()
            slot.event.set()
            self._in_flight.release()

    # ----------------------------------------------------------------------------------------
    # Closing

    def _shutdown_socket(self) -> None:
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self, timeout: float = 2.0) -> None:
        """Sends close_notify, ends the connection and fails the calls still in flight."""
        if self._reason is None:
            self._reason = lambda: ConnectionLost("the client was closed")
        self._dead = True
        if self._send_lock.acquire(timeout=timeout):
            try:
                with self._ssl_lock:
                    try:
                        self._ssl.unwrap()
                    except (ssl.SSLError, ValueError, OSError):
                        pass
                    out = self._outgoing.read()
                if out:
                    # Best effort, and never blocking: a peer that reads nothing gets no close_notify.
                    self._sock.send(out, getattr(socket, "MSG_DONTWAIT", 0))
            except OSError:
                pass
            finally:
                self._send_lock.release()
        self._shutdown_socket()
        if threading.current_thread() is not self._reader:
            self._reader.join(timeout)


def _remaining(deadline: float) -> float:
    return max(0.0, deadline - time.monotonic())


def _describe(error: BaseException) -> str:
    if isinstance(error, ssl.SSLCertVerificationError) and error.verify_message:
        return f"certificate verification failed: {error.verify_message}"
    text = str(error)
    return text or type(error).__name__
