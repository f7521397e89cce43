"""Replays proto-spec/vectors (methods.json and framing.json) against one fresh verityd.

The vectors are found through VERITY_VECTORS, or at ../../../proto-spec/vectors from this file.
methods.json goes through Client.call_raw (one client, so one connection, per role);
framing.json is written byte for byte on raw TLS sockets.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
import struct
import time
import unittest
from pathlib import Path
from typing import Any, List, Optional

import harness

VECTORS = Path(os.environ.get("VERITY_VECTORS") or Path(__file__).resolve().parent / "../../../proto-spec/vectors")

_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_MISSING = object()

SOCKET_TIMEOUT = 10.0


def mismatch(pattern: Any, actual: Any, path: str = "$") -> Optional[str]:
    """Where ``actual`` does not match ``pattern`` (the rules of vectors/README.md), or None."""
    if pattern == "<any>":
        return f"{path} is missing" if actual is _MISSING else None
    if actual is _MISSING:
        return f"{path} is missing"
    if pattern == "<timestamp>":
        ok = isinstance(actual, str) and _TIMESTAMP.match(actual)
        return None if ok else f"{path} is not a timestamp: {actual!r}"
    if pattern == "<hex64>":
        ok = isinstance(actual, str) and _HEX64.match(actual)
        return None if ok else f"{path} is not 64 lowercase hex digits: {actual!r}"
    if isinstance(pattern, dict):
        if not isinstance(actual, dict):
            return f"{path} is not an object: {actual!r}"
        for key, value in pattern.items():
            if value == "<absent>":
                if key in actual:
                    return f"{path}.{key} should be absent but is {actual[key]!r}"
                continue
            problem = mismatch(value, actual.get(key, _MISSING), f"{path}.{key}")
            if problem:
                return problem
        return None
    if isinstance(pattern, list):
        if not isinstance(actual, list) or len(actual) != len(pattern):
            return f"{path} should be an array of {len(pattern)}: {actual!r}"
        for index, (p, a) in enumerate(zip(pattern, actual)):
            problem = mismatch(p, a, f"{path}[{index}]")
            if problem:
                return problem
        return None
    if isinstance(pattern, bool) or isinstance(actual, bool):
        same = isinstance(pattern, bool) and isinstance(actual, bool) and pattern == actual
    elif isinstance(pattern, (int, float)) and isinstance(actual, (int, float)):
        same = pattern == actual  # numbers compare by value
    else:
        same = type(pattern) is type(actual) and pattern == actual
    return None if same else f"{path} is {actual!r}, expected {pattern!r}"


def load(name: str) -> List[dict]:
    path = VECTORS / name
    if not path.exists():
        raise unittest.SkipTest(f"no vectors at {path} (set VERITY_VECTORS)")
    with open(path, encoding="utf-8") as f:
        return json.load(f)["cases"]


#: One fresh development-mode server for every vector.
live = harness.ModuleServer()
setUpModule, tearDownModule = live.start, live.stop


class PatternTests(unittest.TestCase):
    """The matcher itself."""

    def test_patterns(self) -> None:
        self.assertIsNone(mismatch({"a": 1}, {"a": 1.0, "b": 2}))
        self.assertIsNotNone(mismatch({"a": "<absent>"}, {"a": None}))
        self.assertIsNone(mismatch({"a": "<absent>"}, {}))
        self.assertIsNotNone(mismatch({"a": "<any>"}, {}))
        self.assertIsNone(mismatch({"a": "<any>"}, {"a": None}))
        self.assertIsNone(mismatch("<timestamp>", "2026-11-22T16:04:29.123Z"))
        self.assertIsNotNone(mismatch("<timestamp>", "2026-11-22T16:04:29Z"))
        self.assertIsNone(mismatch("<hex64>", "ab" * 32))
        self.assertIsNotNone(mismatch("<hex64>", "AB" * 32))
        self.assertIsNotNone(mismatch([1], [1, 2]))
        self.assertIsNotNone(mismatch(True, 1))
        self.assertIsNotNone(mismatch(0, False))
        self.assertIsNotNone(mismatch("1", 1))


class MethodVectorTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        live.server  # raises SkipTest without a server, saying why

    def test_methods_json(self) -> None:
        cases = load("methods.json")
        self.assertTrue(cases)
        clients = {}
        steps = 0
        try:
            for case in cases:
                for index, step in enumerate(case["steps"], start=1):
                    role = step["role"]
                    if role not in clients:
                        clients[role] = live.server.client(role)
                    response = clients[role].call_raw(step["request"])
                    steps += 1
                    with self.subTest(case=case["name"], step=index):
                        self.assertIsInstance(response.get("id"), int)
                        self.assertGreaterEqual(response["id"], 1)
                        problem = mismatch(step["response"], response)
                        self.assertIsNone(problem, f"{case['name']} step {index}: {problem}\nresponse: {response}")
            # One connection per role carried every step.
            for role, client in clients.items():
                self.assertEqual(client.connects, 1, role)
        finally:
            for client in clients.values():
                client.close()
        self.assertGreater(steps, 50)


class RawConnection:
    """A TLS connection written byte for byte, reading frames as they come."""

    def __init__(self, role: str) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        server = live.server
        context.load_verify_locations(server.ca)
        context.load_cert_chain(server.cert(role), server.key(role))
        context.set_alpn_protocols(["verity/1"])
        raw = socket.create_connection((server.host, server.port), timeout=SOCKET_TIMEOUT)
        # suppress_ragged_eofs=False: an end without close_notify raises instead of reading b"".
        self.sock = context.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)
        self.buffer = b""
        self.frames: List[dict] = []
        self.closed = False
        self.close_notify = False

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _read_more(self, deadline: float) -> bool:
        """Reads once; False when the connection has ended."""
        if self.closed:
            return False
        self.sock.settimeout(max(0.01, deadline - time.monotonic()))
        try:
            chunk = self.sock.recv(65536)
        except (ssl.SSLEOFError, ConnectionResetError, BrokenPipeError):
            chunk = b""
        except (ssl.SSLZeroReturnError,):
            chunk, self.close_notify = b"", True
        else:
            if not chunk:
                self.close_notify = True
        if not chunk:
            self.closed = True
            return False
        self.buffer += chunk
        while len(self.buffer) >= 4:
            (length,) = struct.unpack(">I", self.buffer[:4])
            if len(self.buffer) < 4 + length:
                break
            self.frames.append(json.loads(self.buffer[4 : 4 + length].decode("utf-8")))
            self.buffer = self.buffer[4 + length :]
        return True

    def wait_frames(self, count: int, timeout: float = SOCKET_TIMEOUT) -> None:
        deadline = time.monotonic() + timeout
        while len(self.frames) < count and time.monotonic() < deadline:
            try:
                if not self._read_more(deadline):
                    break
            except socket.timeout:
                break

    def wait_close(self, timeout: float = SOCKET_TIMEOUT) -> bool:
        deadline = time.monotonic() + timeout
        while not self.closed and time.monotonic() < deadline:
            try:
                self._read_more(deadline)
            except socket.timeout:
                break
        return self.closed

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass


class FramingVectorTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        # The duplicate-id case checks a subject that exists, so its first request is evaluated.
        with live.server.client("agent") as agent:  # raises SkipTest without a server
            agent.enroll("vector-dup")
            agent.set_security_details("vector-dup", pin="4829157", actor="agent:4711")

    def test_framing_json(self) -> None:
        cases = load("framing.json")
        self.assertTrue(cases)
        for case in cases:
            with self.subTest(case=case["name"]):
                self._replay(case)

    def _replay(self, case: dict) -> None:
        name = case["name"]
        connection = RawConnection(case["role"])
        try:
            connection.send(bytes.fromhex(case["sendHex"]))
            closes = case.get("closed", False)
            if "expect" in case:
                expected = case["expect"]
                connection.wait_frames(len(expected))
                if closes:
                    self.assertTrue(connection.wait_close(), f"{name}: the server should close the connection")
                frames = list(connection.frames)
                if case.get("expectAnyOrder"):
                    frames.sort(key=lambda f: f.get("id") if isinstance(f.get("id"), int) else -1)
                problem = mismatch(expected, frames)
                self.assertIsNone(problem, f"{name}: {problem}")
            if "expectIncludes" in case:
                self.assertTrue(connection.wait_close(), f"{name}: the server should close the connection")
                for pattern in case["expectIncludes"]:
                    self.assertTrue(
                        any(mismatch(pattern, frame) is None for frame in connection.frames),
                        f"{name}: no frame matches {pattern}; frames: {connection.frames}",
                    )
            if closes:
                self.assertTrue(connection.wait_close(), f"{name}: the server should close the connection")
                self.assertTrue(connection.close_notify, f"{name}: the server should end with a TLS close_notify")
            else:
                # Still open: a further request is answered, and it is the next frame.
                before = len(connection.frames)
                body = b'{"id":99,"method":"verity.v1.Health/Check"}'
                connection.send(struct.pack(">I", len(body)) + body)
                connection.wait_frames(before + 1)
                self.assertEqual(len(connection.frames), before + 1, f"{name}: the connection should stay open")
                self.assertIsNone(
                    mismatch({"id": 99, "status": {"code": 0}, "message": {"status": "SERVING"}}, connection.frames[-1]),
                    f"{name}: {connection.frames[-1]}",
                )
        finally:
            connection.close()


if __name__ == "__main__":
    unittest.main()
