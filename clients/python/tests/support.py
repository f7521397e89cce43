"""Test support: runs a real verityd in a temporary directory.

The binary comes from the environment variable VERITYD (required). Every wait is bounded.
"""

from __future__ import annotations

import collections
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request
from pathlib import Path
from typing import Deque, List, Optional, Sequence

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # run from a checkout without installing the package

from verity_client import Client  # noqa: E402

ROLES = ("verifier", "ivr", "agent", "notifier", "admin")

START_TIMEOUT = 30.0
STOP_TIMEOUT = 30.0

_SERVING = re.compile(r"127\.0\.0\.1:(\d+) .*\] serving\s*$")
_METRICS = re.compile(r"address=http://127\.0\.0\.1:(\d+)/metrics")


def verityd_path() -> str:
    """The verityd binary named by VERITYD; skips the test when it is not set or not there."""
    path = os.environ.get("VERITYD")
    if not path:
        raise unittest.SkipTest(
            "VERITYD is not set: these tests need a verityd binary, "
            "e.g. VERITYD=/path/to/.build/debug/verityd python3 -m unittest discover -s tests"
        )
    if not os.access(path, os.X_OK):
        raise unittest.SkipTest(f"VERITYD={path} is not an executable file")
    return path


def wait_until(condition, timeout: float, interval: float = 0.01, what: str = "condition"):
    """Polls ``condition()`` until it returns a true value (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class VerityServer:
    """One verityd process.

    ``production=False``: development mode (console sink on). ``production=True``: the dev PKI
    and pepper made by a first development-mode run, passed as production flags (no console
    sink, so a test can lease the one-time codes itself).
    """

    def __init__(
        self,
        *,
        production: bool = False,
        data_dir: Optional[str] = None,
        extra_args: Sequence[str] = (),
        metrics: bool = False,
    ) -> None:
        self.binary = verityd_path()
        self._own_dir = data_dir is None
        self.data_dir = data_dir or tempfile.mkdtemp(prefix="verity-py-")
        self.production = production
        self.extra_args = list(extra_args)
        self.metrics = metrics
        self.host = "127.0.0.1"
        self.port: Optional[int] = None
        self.metrics_port: Optional[int] = None
        self._process: Optional[subprocess.Popen] = None
        self._log: Deque[str] = collections.deque(maxlen=500)
        self._starts = 0

    # -- paths ------------------------------------------------------------------------------

    @property
    def pki(self) -> str:
        return os.path.join(self.data_dir, "pki")

    @property
    def ca(self) -> str:
        return os.path.join(self.pki, "ca.pem")

    def cert(self, role: str) -> str:
        return os.path.join(self.pki, f"{role}.pem")

    def key(self, role: str) -> str:
        return os.path.join(self.pki, f"{role}-key.pem")

    def client(self, role: str, **options) -> Client:
        assert self.port is not None, "the server is not running"
        return Client(self.host, self.port, cert=self.cert(role), key=self.key(role), ca=self.ca, **options)

    @property
    def log(self) -> List[str]:
        return list(self._log)

    # -- life cycle ------------------------------------------------------------------------

    def start(self, port: Optional[int] = None) -> "VerityServer":
        """Starts verityd (on ``port``, default: any free one) and waits until it serves."""
        if self.production and not os.path.exists(os.path.join(self.data_dir, "pepper.json")):
            first = VerityServer(data_dir=self.data_dir)
            first.start()
            first.stop()
        listen = f"{self.host}:{port if port is not None else 0}"
        args = [
            self.binary,
            "--listen", listen,
            "--data-dir", self.data_dir,
            "--metrics-listen", "127.0.0.1:0" if self.metrics else "off",
        ]
        if not any(a == "--scrypt-log-n" for a in self.extra_args):
            args += ["--scrypt-log-n", "10"]
        if self.production:
            args += [
                "--cert", os.path.join(self.pki, "server.pem"),
                "--key", os.path.join(self.pki, "server-key.pem"),
                "--client-ca", self.ca,
                "--pepper", os.path.join(self.data_dir, "pepper.json"),
            ]
        args += self.extra_args
        self._starts += 1
        stdout = open(os.path.join(self.data_dir, f"stdout-{self._starts}.log"), "wb")
        try:
            self._process = subprocess.Popen(
                args, stdin=subprocess.DEVNULL, stdout=stdout, stderr=subprocess.PIPE, start_new_session=True
            )
        finally:
            stdout.close()
        serving = threading.Event()
        metrics_seen = threading.Event()
        found = {}

        def drain(stream) -> None:
            # Reads stderr to the end, so that the server never blocks on a full pipe.
            for raw in iter(stream.readline, b""):
                line = raw.decode("utf-8", "replace").rstrip("\n")
                self._log.append(line)
                metrics = _METRICS.search(line)
                if metrics:
                    found["metrics"] = int(metrics.group(1))
                    metrics_seen.set()
                match = _SERVING.search(line)
                if match and "port" not in found:
                    found["port"] = int(match.group(1))
                    serving.set()
            stream.close()
            serving.set()  # the process ended: stop waiting
            metrics_seen.set()

        threading.Thread(target=drain, args=(self._process.stderr,), daemon=True).start()
        if not serving.wait(START_TIMEOUT) or "port" not in found:
            self._kill()
            raise AssertionError("verityd did not start serving:\n" + "\n".join(self.log[-30:]))
        self.port = found["port"]
        if self.metrics:
            # The metrics endpoint announces itself on a line of its own, before or after serving.
            if not metrics_seen.wait(START_TIMEOUT) or "metrics" not in found:
                self._kill()
                raise AssertionError("verityd did not announce its metrics address:\n" + "\n".join(self.log[-30:]))
            self.metrics_port = found["metrics"]
        return self

    def stop(self) -> int:
        """SIGTERM, wait, and check that verityd exited 0."""
        self.terminate()
        return self.wait_stopped()

    def terminate(self) -> None:
        """Sends SIGTERM without waiting; :meth:`wait_stopped` then checks the exit."""
        assert self._process is not None, "the server is not running"
        self._process.send_signal(signal.SIGTERM)

    def wait_stopped(self) -> int:
        """Waits for a terminated verityd to exit and checks that it exited 0."""
        process = self._process
        assert process is not None, "the server is not running"
        try:
            code = process.wait(STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            self._kill()
            raise AssertionError("verityd did not stop within %s s" % STOP_TIMEOUT)
        self._process = None
        if code != 0:
            raise AssertionError(f"verityd exited {code}:\n" + "\n".join(self.log[-30:]))
        return code

    def _kill(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.kill()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                pass
        self._process = None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def cleanup(self) -> None:
        """Kills a server still running (a failed test) and removes the data directory."""
        self._kill()
        if self._own_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)

    def close(self) -> None:
        """Stops a running server (checking that it exits 0), then :meth:`cleanup` in any case."""
        try:
            if self.running:
                self.stop()
        finally:
            self.cleanup()

    # -- metrics ---------------------------------------------------------------------------

    def metric(self, name: str) -> Optional[float]:
        """The value of an unlabelled metric from the metrics endpoint (needs ``metrics=True``)."""
        assert self.metrics_port is not None, "started without metrics"
        with urllib.request.urlopen(f"http://127.0.0.1:{self.metrics_port}/metrics", timeout=5) as response:
            text = response.read().decode("utf-8")
        for line in text.splitlines():
            parts = line.split()
            if len(parts) == 2 and parts[0] == name:
                return float(parts[1])
        return None
