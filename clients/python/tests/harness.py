"""What the test modules share: the verityd a module starts for its tests, a test case with a
client per role on a server, a development server with a movable clock, the mail the notifier
leases, and a client that records requests instead of sending them.

``support`` runs the verityd processes; this module builds the tests' fixtures on it.
"""

from __future__ import annotations

import re
import unittest
import uuid
from typing import Callable, ClassVar, Dict, List, Optional, Sequence

import support
from support import VerityServer, wait_until

from verity_client import Client, Delivery, error_class_for_code

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")

#: The metadata actors of caseworker and administrator calls.
AGENT = "agent:4711"
ADMIN = "admin:7"

#: PINs the PIN policy accepts.
PIN, NEW_PIN, WRONG_PIN = "4829157", "5937261", "6048213"


def unique_id(prefix: str, label: str) -> str:
    """A subject id (or anything else) no other test uses: ``prefix-label-`` and 10 hex digits."""
    return f"{prefix}-{label}-{uuid.uuid4().hex[:10]}"


# =============================================================================================
# Request messages without a server


def answer(message: Optional[dict] = None, status: Optional[dict] = None) -> dict:
    """A response envelope: OK with ``message`` (an empty one by default), or ``status`` without one."""
    if status is not None:
        return {"id": 1, "status": status}
    return {"id": 1, "status": {"code": 0, "name": "OK"}, "message": message if message is not None else {}}


class RecordingClient(Client):
    """A Client that connects nowhere: it records each request envelope and answers from a list
    (an empty OK answer once the list is used up)."""

    def __init__(self, *answers: dict) -> None:
        super().__init__(cert="unused.pem", key="unused-key.pem", ca="unused-ca.pem")
        self.sent: List[dict] = []
        self.answers = list(answers)

    @staticmethod
    def _make_context(cert: str, key: str, ca: str):  # type: ignore[override]
        return None

    def call_raw(self, envelope):  # type: ignore[override]
        self.sent.append(dict(envelope))
        return self.answers.pop(0) if self.answers else answer()


# =============================================================================================
# Servers


class ModuleServer:
    """The verityd a test module's tests share, started by ``setUpModule`` and stopped by
    ``tearDownModule``::

        live = harness.ModuleServer(production=True)
        setUpModule, tearDownModule = live.start, live.stop

    Without VERITYD nothing starts: the tests that need no server still run, and :attr:`server`
    skips the others, saying why. ``production=True``: the development PKI and pepper passed as
    production flags (no console sink, so the notifier leases the mail itself).
    """

    def __init__(self, *, production: bool = False) -> None:
        self.production = production
        self._server: Optional[VerityServer] = None

    def start(self) -> None:
        try:
            support.verityd_path()
        except unittest.SkipTest:
            return
        server = VerityServer(production=self.production)
        try:
            server.start()
        except BaseException:
            server.cleanup()
            raise
        self._server = server

    def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()

    @property
    def server(self) -> VerityServer:
        """The running server; raises SkipTest (saying why) when VERITYD names none."""
        if self._server is None:
            support.verityd_path()  # raises SkipTest, saying why
            raise AssertionError("the module's verityd was not started: is setUpModule the ModuleServer's start?")
        return self._server


# =============================================================================================
# Tests against a server


class LiveTestCase(unittest.TestCase):
    """Tests against a running verityd: a client per role, errors checked by class, field and
    reason, and the mail the notifier leases.

    A subclass names the module's :class:`ModuleServer` as ``shared``, or starts a server of its
    own in ``setUpClass`` and calls :meth:`open_clients` (as :class:`DevClockTestCase` does).
    """

    shared: ClassVar[Optional[ModuleServer]] = None

    server: ClassVar[VerityServer]
    clients: ClassVar[Dict[str, Client]]
    agent: ClassVar[Client]
    verifier: ClassVar[Client]
    ivr: ClassVar[Client]
    notifier: ClassVar[Client]
    admin: ClassVar[Client]
    #: Deliveries leased while looking for another, by id, until their own test looks for them.
    inbox: ClassVar[Dict[str, Delivery]]

    @classmethod
    def setUpClass(cls) -> None:
        super().setUpClass()
        if cls.shared is None:
            raise AssertionError(f"{cls.__name__} names no shared server and starts none")
        cls.open_clients(cls.shared.server)

    @classmethod
    def open_clients(cls, server: VerityServer) -> None:
        cls.server = server
        cls.clients = {role: server.client(role) for role in support.ROLES}
        cls.agent = cls.clients["agent"]
        cls.verifier = cls.clients["verifier"]
        cls.ivr = cls.clients["ivr"]
        cls.notifier = cls.clients["notifier"]
        cls.admin = cls.clients["admin"]
        cls.inbox = {}

    @classmethod
    def tearDownClass(cls) -> None:
        for client in getattr(cls, "clients", {}).values():
            client.close()
        super().tearDownClass()

    def assert_error(self, cls, call: Callable[[], object], field: Optional[str] = None, reason: Optional[str] = None):
        """``call()`` raises exactly ``cls`` (with ``field`` and ``reason`` when given); returns it."""
        with self.assertRaises(cls) as caught:
            call()
        error = caught.exception
        self.assertIs(type(error), cls)
        self.assertEqual(error_class_for_code(error.code), cls)
        self.assertEqual(error.name, cls.name)
        if field is not None:
            self.assertEqual(error.field, field)
        if reason is not None:
            self.assertEqual(error.reason, reason)
        return error

    def delivery(
        self,
        destination: str,
        template: Optional[str] = None,
        *,
        channels: Optional[Sequence[str]] = None,
        where: Optional[Callable[[Delivery], bool]] = None,
        lease_seconds: int = 600,
        ack: bool = False,
    ) -> Delivery:
        """Leases until a delivery to ``destination`` shows up (it is committed with its act, so
        it is there at once; the wait is bounded) and returns it, acknowledged if ``ack``: of
        ``template`` when given, of ``channels`` (leased by channel) when given, and one that
        ``where`` accepts when given.

        What a lease hands out for other tests waits in :attr:`inbox` until they look for it,
        unless it was leased for less than a minute: that lease would run out before its test
        looked, and the delivery comes back to be leased again by itself.
        """
        def matches(delivery: Delivery) -> bool:
            return (delivery.destination == destination and (template is None or delivery.template == template)
                    and (channels is None or delivery.channel in channels) and (where is None or where(delivery)))

        def find() -> Optional[Delivery]:
            found = self._lease(matches, channels, lease_seconds)
            return found[0] if found else None

        what = f"{template or 'a delivery'} to {destination!r}"
        delivery = wait_until(find, timeout=10, what=what)
        if ack:
            self.notifier.ack(delivery.delivery_id, lease_token=delivery.lease_token)
        return delivery

    def deliveries_now(self, destination: str) -> List[Delivery]:
        """Every delivery to ``destination`` not yet leased for its test, acknowledged: one lease,
        no waiting. An act commits its deliveries with it, so an empty list means that the acts
        so far made none (beyond those their tests took)."""
        found = self._lease(lambda delivery: delivery.destination == destination, None, 600)
        for delivery in found:
            self.notifier.ack(delivery.delivery_id, lease_token=delivery.lease_token)
        return found

    def _lease(self, matches: Callable[[Delivery], bool], channels: Optional[Sequence[str]], lease_seconds: int) -> List[Delivery]:
        """One lease: the deliveries ``matches`` accepts, from it and from :attr:`inbox`, oldest
        first; the others wait in the inbox (see :meth:`delivery`)."""
        leased = self.notifier.lease(max=100, lease_seconds=lease_seconds, channels=channels)
        if channels is not None:
            for delivery in leased:
                self.assertIn(delivery.channel, channels, "a lease by channel hands out only those channels")
        fresh = {delivery.delivery_id: delivery for delivery in leased}
        found = [d for d in [*self.inbox.values(), *fresh.values()] if matches(d)]
        if lease_seconds >= 60:
            self.inbox.update(fresh)  # the newest lease of a delivery is the one that counts
        for delivery in found:
            self.inbox.pop(delivery.delivery_id, None)
        return found


class DevClockTestCase(LiveTestCase):
    """Tests on a development server of the class's own, started with ``--dev-clock``, whose
    clock :meth:`advance` moves forward. A verityd without the development clock fails them."""

    dev: ClassVar[Optional[VerityServer]] = None

    @classmethod
    def setUpClass(cls) -> None:
        support.verityd_path()  # raises SkipTest without a server binary
        server = VerityServer(extra_args=["--dev-clock"])
        try:
            server.start()
        except BaseException:
            log = "\n".join(server.log)
            server.cleanup()
            if "--dev-clock" in log:
                raise AssertionError("this verityd does not know --dev-clock: rebuild it to test the timed steps\n" + log)
            raise
        cls.dev = server
        cls.open_clients(server)

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        server, cls.dev = cls.dev, None
        if server is not None:
            server.close()

    def advance(self, seconds: int) -> dict:
        """Moves the server's clock forward (Development/AdvanceClock, as admin) and returns
        ``{"now", "stepsTaken"}``."""
        moved = self.admin.advance_clock(seconds, actor=ADMIN)
        self.assertRegex(moved["now"], TIMESTAMP)
        return moved
