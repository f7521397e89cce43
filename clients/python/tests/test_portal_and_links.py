"""Portal registration and password reset (verity.v1.Portal, procedure 001) and linking a portal
account to a person (verity.v1.Links, procedure 003): the request messages without a server,
then both procedures against a real verityd.

Most tests use a production-mode server, as test_change_requests does (the notifier leases the
registration e-mails and the codes itself). The expiries (a registration token after 72 hours, a
verified code's grant after 10 minutes) need a development server started with ``--dev-clock``;
the test class that needs it starts its own.
"""

from __future__ import annotations

import json
import re
import threading
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from typing import Dict, List, Optional, Sequence

import support
from support import VerityServer, wait_until

from verity_client import (
    Client,
    Delivery,
    FailedPrecondition,
    InvalidArgument,
    LinkCase,
    LinkHold,
    LinkOutcome,
    LinkRequestStatus,
    NotFound,
    PermissionDenied,
    Verification,
    parse_timestamp,
)

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX32 = re.compile(r"^[0-9a-f]{32}$")
TOKEN = re.compile(r"^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$")

#: The metadata actors of caseworker and administrator calls.
AGENT = "agent:4711"
ADMIN = "admin:7"

PIN, WRONG_PIN = "4829157", "6048213"
PASSWORD, NEW_PASSWORD = "Blue kettle 1987", "Green teapot 2024"

#: The facts on file for every person here, and the same facts as a portal may type them.
DATE_OF_BIRTH, ZIP_CODE = "1984-03-09", "90210"
TYPED_DATE_OF_BIRTH, TYPED_ZIP_CODE = "03/09/1984", "90210-1234"

#: Primary in Los Angeles and Orange; primary in San Diego but permanently out of the home; not
#: primary in Kern. Requests go to Los Angeles and Orange only.
CASES = (
    LinkCase("LOS ANGELES", "LA-100200", primary_applicant=True),
    LinkCase("ORANGE", "OR300400", primary_applicant=True),
    {"county": "SAN DIEGO", "caseNumber": "SD500600", "primaryApplicant": True, "permanentlyOutOfHome": True},
    {"county": "KERN", "caseNumber": "KE700800", "primaryApplicant": False, "childrenServicesActive": False},
)
QUEUE_COUNTIES = ["LOS ANGELES", "ORANGE"]
GRANT_WINDOW_SECONDS = 600
TOKEN_LIFETIME_SECONDS = 72 * 3600


def sid(label: str) -> str:
    """A subject id no other test uses."""
    return f"py-pl-{label}-{uuid.uuid4().hex[:10]}"


def guid() -> str:
    """A portal account GUID no other test uses."""
    return str(uuid.uuid4())


def tag() -> str:
    """A word no other registrant's name has."""
    return "Q" + uuid.uuid4().hex[:12]


# =============================================================================================
# Request messages without a server


def _answer(message: Optional[dict] = None) -> dict:
    return {"id": 1, "status": {"code": 0, "name": "OK"}, "message": message if message is not None else {}}


class RecordingClient(Client):
    """A Client that connects nowhere: it records each request envelope and answers from a list."""

    def __init__(self, *answers: dict) -> None:
        super().__init__(cert="unused.pem", key="unused-key.pem", ca="unused-ca.pem")
        self.sent: List[dict] = []
        self.answers = list(answers)

    @staticmethod
    def _make_context(cert: str, key: str, ca: str):  # type: ignore[override]
        return None

    def call_raw(self, envelope):  # type: ignore[override]
        self.sent.append(dict(envelope))
        return self.answers.pop(0) if self.answers else _answer()


RID = "0123456789abcdef0123456789abcdef"
ACCOUNT = "0f8fad5b-d9cb-469f-a165-70867728950e"


class PortalAndLinkMessageTests(unittest.TestCase):
    def test_each_method_sends_its_path_and_fields(self) -> None:
        client = RecordingClient()
        client.start_registration("case-1", actor=AGENT, request_id="r-1")
        client.complete_registration(RID + "." + "A" * 43, PASSWORD)
        self.assertEqual(client.reset_password("case-1", RID, NEW_PASSWORD, timeout_ms=3000), "")
        client.set_link_facts("case-1", "Pat Quillfeather", DATE_OF_BIRTH, ZIP_CODE, CASES, actor=AGENT)
        client.set_link_facts("case-1", "Pat Quillfeather", DATE_OF_BIRTH, ZIP_CODE, CASES[:1], customer_privacy_active=True, actor=AGENT)
        client.submit_link("case-1", ACCOUNT, TYPED_DATE_OF_BIRTH, TYPED_ZIP_CODE, "los angeles", "la100200")
        client.submit_link("case-1", ACCOUNT, DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400", challenge_id=RID)
        client.show_link_request(RID)
        client.link_account(RID, actor=AGENT)
        client.reject_link_request(RID, "not the same person", actor=AGENT)
        client.unlink_account("case-1", "linked in error", actor=ADMIN)
        facts = {"subjectId": "case-1", "registrantName": "Pat Quillfeather", "dateOfBirth": DATE_OF_BIRTH, "zipCode": ZIP_CODE}
        self.assertEqual([(e["method"], e["message"]) for e in client.sent], [
            ("verity.v1.Portal/StartRegistration", {"subjectId": "case-1"}),
            ("verity.v1.Portal/CompleteRegistration", {"token": RID + "." + "A" * 43, "password": PASSWORD}),
            ("verity.v1.Portal/ResetPassword", {"subjectId": "case-1", "challengeId": RID, "newPassword": NEW_PASSWORD}),
            ("verity.v1.Links/SetFacts", {**facts, "cases": [
                {"county": "LOS ANGELES", "caseNumber": "LA-100200", "primaryApplicant": True},
                {"county": "ORANGE", "caseNumber": "OR300400", "primaryApplicant": True},
                {"county": "SAN DIEGO", "caseNumber": "SD500600", "primaryApplicant": True, "permanentlyOutOfHome": True},
                {"county": "KERN", "caseNumber": "KE700800", "primaryApplicant": False, "childrenServicesActive": False},
            ]}),
            ("verity.v1.Links/SetFacts", {**facts, "customerPrivacyActive": True,
                                          "cases": [{"county": "LOS ANGELES", "caseNumber": "LA-100200", "primaryApplicant": True}]}),
            ("verity.v1.Links/Submit", {"subjectId": "case-1", "portalAccountId": ACCOUNT, "dateOfBirth": TYPED_DATE_OF_BIRTH,
                                        "zipCode": TYPED_ZIP_CODE, "county": "los angeles", "caseNumber": "la100200"}),
            ("verity.v1.Links/Submit", {"subjectId": "case-1", "portalAccountId": ACCOUNT, "dateOfBirth": DATE_OF_BIRTH,
                                        "zipCode": ZIP_CODE, "county": "ORANGE", "caseNumber": "OR300400", "challengeId": RID}),
            ("verity.v1.Links/Show", {"linkRequestId": RID}),
            ("verity.v1.Links/Link", {"linkRequestId": RID}),
            ("verity.v1.Links/Reject", {"linkRequestId": RID, "reason": "not the same person"}),
            ("verity.v1.Links/Unlink", {"subjectId": "case-1", "reason": "linked in error"}),
        ])
        self.assertEqual(client.sent[0]["metadata"], {"actor": AGENT, "requestId": "r-1"})
        self.assertNotIn("metadata", client.sent[1])
        self.assertEqual(client.sent[2]["timeoutMs"], 3000)
        self.assertEqual(client.sent[10]["metadata"], {"actor": ADMIN})

    def test_search_filters(self) -> None:
        client = RecordingClient()
        client.search_link_requests()
        client.search_link_requests(statuses="PENDING", registrant_name="quill", county="ORANGE", page_size=1, page_token="17.ab")
        client.search_link_requests(statuses=[LinkRequestStatus.PROCESSED, "REJECTED"],
                                    requested_from=datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
                                    requested_to="2026-12-02T00:00:00Z")
        self.assertEqual([e["message"] for e in client.sent], [
            {},
            {"statuses": ["PENDING"], "registrantName": "quill", "county": "ORANGE", "pageSize": 1, "pageToken": "17.ab"},
            {"statuses": ["PROCESSED", "REJECTED"], "requestedFrom": "2026-12-01T08:30:00.123Z", "requestedTo": "2026-12-02T00:00:00Z"},
        ])
        self.assertTrue(all(e["method"] == "verity.v1.Links/Search" for e in client.sent))
        with self.assertRaises(ValueError):
            client.search_link_requests(requested_from=datetime(2026, 12, 1))  # a naive time is refused

    def test_answers_without_their_lists_get_empty_ones(self) -> None:
        client = RecordingClient(_answer({"outcome": "QUEUED"}), _answer(), _answer(), _answer(), _answer({"state": "ACTIVE"}))
        self.assertEqual(client.submit_link("case-1", ACCOUNT, DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400"),
                         {"outcome": "QUEUED", "linkRequests": []})
        self.assertEqual(client.search_link_requests(), {"linkRequests": []})
        self.assertEqual(client.link_account(RID), {"linkRequests": []})
        self.assertEqual(client.unlink_account("case-1", "why"), {"linkRequests": []})
        self.assertEqual(client.reset_password("case-1", RID, NEW_PASSWORD), "ACTIVE")

    def test_iter_link_requests_follows_the_tokens(self) -> None:
        first = {"linkRequestId": "a" * 32}
        second = {"linkRequestId": "b" * 32}
        client = RecordingClient(_answer({"linkRequests": [first], "nextPageToken": "1.a"}),
                                 _answer({"linkRequests": [second]}))
        self.assertEqual(list(client.iter_link_requests(county="ORANGE", page_size=1, actor=AGENT)), [first, second])
        self.assertEqual([e["message"] for e in client.sent], [
            {"county": "ORANGE", "pageSize": 1},
            {"county": "ORANGE", "pageSize": 1, "pageToken": "1.a"},
        ])
        self.assertEqual(client.sent[1]["metadata"], {"actor": AGENT})

    def test_link_case_as_json(self) -> None:
        self.assertEqual(LinkCase("KERN", "KE700800", False, children_services_active=True).to_json(),
                         {"county": "KERN", "caseNumber": "KE700800", "primaryApplicant": False, "childrenServicesActive": True})
        self.assertEqual(LinkHold.ZIP_CODE_MISMATCH, "ZIP_CODE_MISMATCH")
        self.assertEqual(LinkOutcome.QUEUED, "QUEUED")


# =============================================================================================
# The procedures against a server


live: Optional[VerityServer] = None


def setUpModule() -> None:
    # Production mode with the development PKI, as in test_client: the notifier leases the mail.
    global live
    try:
        support.verityd_path()
    except unittest.SkipTest:
        return
    live = VerityServer(production=True)
    try:
        live.start()
    except BaseException:
        live.cleanup()
        raise


def tearDownModule() -> None:
    if live is not None:
        try:
            if live.running:
                live.stop()
        finally:
            live.cleanup()


class _Procedure(unittest.TestCase):
    """What the live tests share: a client per role on ``server``, the mail, and the steps."""

    server: VerityServer
    clients: Dict[str, Client]
    inbox: List[Delivery]

    @classmethod
    def open_clients(cls, server: VerityServer) -> None:
        cls.server = server
        cls.clients = {role: server.client(role) for role in support.ROLES}
        cls.agent = cls.clients["agent"]
        cls.verifier = cls.clients["verifier"]
        cls.notifier = cls.clients["notifier"]
        cls.admin = cls.clients["admin"]
        cls.inbox = []

    @classmethod
    def tearDownClass(cls) -> None:
        for client in getattr(cls, "clients", {}).values():
            client.close()

    def assert_error(self, cls, call, field: Optional[str] = None, reason: Optional[str] = None):
        with self.assertRaises(cls) as caught:
            call()
        error = caught.exception
        self.assertIs(type(error), cls)
        if field is not None:
            self.assertEqual(error.field, field)
        if reason is not None:
            self.assertEqual(error.reason, reason)
        return error

    def mail(self, destination: str, template: str) -> Delivery:
        """The delivery ``template`` to ``destination``, acknowledged: leases until it shows up (it
        is committed with its act). What a lease hands out for others waits in ``inbox``."""
        def find():
            self.inbox.extend(self.notifier.lease(max=100, lease_seconds=600))
            for delivery in self.inbox:
                if delivery.destination == destination and delivery.template == template:
                    self.inbox.remove(delivery)
                    return delivery
            return None
        delivery = wait_until(find, timeout=10, what=f"{template} to {destination}")
        self.notifier.ack(delivery.delivery_id, lease_token=delivery.lease_token)
        return delivery

    def person(self, label: str, *, email: bool = True, phones: Sequence = ()):
        """A newly enrolled client and its e-mail address (None without one)."""
        s = sid(label)
        address = f"{s}@example.org" if email else None
        self.agent.enroll(s, emails=[address] if address else None, phones=list(phones) or None, actor=AGENT)
        return s, address

    def set_facts(self, s: str, name: str, cases: Sequence = CASES, **options) -> dict:
        return self.agent.set_link_facts(s, name, DATE_OF_BIRTH, ZIP_CODE, cases, actor=AGENT, **options)

    def verified_code(self, s: str, address: str, purpose: str) -> str:
        """The challenge of a code for ``purpose`` e-mailed to ``address`` and verified."""
        issued = self.verifier.issue_code(s, "EMAIL", purpose)
        code = self.mail(address, f"CODE_{purpose}").variables["code"]
        self.assertTrue(self.verifier.verify_code(issued.challenge_id, code, subject_id=s, purpose=purpose).verified)
        return issued.challenge_id

    def registration_token(self, s: str, address: str) -> str:
        started = self.agent.start_registration(s, actor=AGENT)
        delivery = self.mail(address, "PORTAL_REGISTRATION")
        self.assertEqual(delivery.variables["expiresAt"], started["expiresAt"])
        return delivery.variables["token"]

    def submit(self, s: str, account: str, challenge_id: Optional[str] = None, **typed) -> dict:
        """Links/Submit with the facts on file as a portal may type them, or with ``typed`` instead."""
        claim = dict(date_of_birth=TYPED_DATE_OF_BIRTH, zip_code=TYPED_ZIP_CODE, county="Los  Angeles", case_number="la 100-200")
        claim.update(typed)
        return self.verifier.submit_link(s, account, challenge_id=challenge_id, **claim)

    def queued(self, s: str, account: str, challenge_id: Optional[str] = None, **typed) -> List[dict]:
        submitted = self.submit(s, account, challenge_id, **typed)
        self.assertEqual(submitted["outcome"], "QUEUED")
        self.assertNotIn("link", submitted)
        return submitted["linkRequests"]

    def link_of(self, request_id: str) -> Optional[dict]:
        return self.agent.show_link_request(request_id).get("link")

    def status_of(self, request_id: str) -> str:
        return self.agent.show_link_request(request_id)["linkRequest"]["status"]


class PortalTests(_Procedure):
    @classmethod
    def setUpClass(cls) -> None:
        if live is None:
            support.verityd_path()  # raises SkipTest, saying why
        assert live is not None
        cls.open_clients(live)

    def test_registration_end_to_end(self) -> None:
        s, address = self.person("register")
        started = self.agent.start_registration(s, actor=AGENT)
        self.assertEqual((started["subjectId"], started["maskedDestination"]), (s, "p***@example.org"))
        self.assertRegex(started["expiresAt"], TIMESTAMP)
        lifetime = parse_timestamp(started["expiresAt"]) - datetime.now(timezone.utc)
        self.assertTrue(timedelta(hours=71) < lifetime <= timedelta(hours=72), lifetime)

        delivery = self.mail(address, "PORTAL_REGISTRATION")
        self.assertEqual(delivery.channel, "EMAIL")
        self.assertEqual(set(delivery.variables), {"token", "subjectId", "expiresAt"})
        self.assertEqual((delivery.variables["subjectId"], delivery.variables["expiresAt"]), (s, started["expiresAt"]))
        token = delivery.variables["token"]
        self.assertRegex(token, TOKEN)
        self.assertNotIn(token, repr(delivery))

        self.assertEqual(self.verifier.complete_registration(token, PASSWORD), {"subjectId": s, "state": "ACTIVE"})
        self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(token, NEW_PASSWORD), reason="TOKEN_USED")
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL"), Verification("VERIFIED", 3))
        self.assertEqual(self.verifier.verify(s, password=NEW_PASSWORD, channel="PORTAL").result, "MISMATCH")  # the second set nothing
        status = self.agent.get_status(s)
        self.assertEqual((status.state, status.has_password, status.has_pin), ("ACTIVE", True, False))

        events = self.admin.list_audit(subject_id=s).events
        acts = [(e.action, e.outcome) for e in events]
        self.assertIn(("START_PORTAL_REGISTRATION", "OK"), acts)
        self.assertLess(acts.index(("COMPLETE_PORTAL_REGISTRATION", "OK")), acts.index(("SET_SECURITY_DETAILS", "OK")))
        self.assertEqual(next(e for e in events if e.action == "START_PORTAL_REGISTRATION").actor, AGENT)
        self.assertIn("sent by EMAIL to p***@example.org", next(e for e in events if e.action == "START_PORTAL_REGISTRATION").facts)
        secret = token.split(".")[1]
        self.assertFalse(any(secret in fact for e in events for fact in e.facts), "the token's secret reached the audit trail")

    def test_one_of_ten_parallel_completions_succeeds(self) -> None:
        s, address = self.person("race")
        token = self.registration_token(s, address)
        count = 10
        portals = [self.server.client("verifier") for _ in range(count)]
        barrier = threading.Barrier(count)
        results: List[object] = []
        lock = threading.Lock()

        def complete(portal: Client) -> None:
            try:
                barrier.wait(30)
                outcome: object = portal.complete_registration(token, PASSWORD)
            except BaseException as error:  # noqa: BLE001 - reported below
                outcome = error
            with lock:
                results.append(outcome)

        try:
            for portal in portals:
                portal.connect()  # each on its own connection, ready before the race
            threads = [threading.Thread(target=complete, args=(portal,)) for portal in portals]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(60)
            self.assertFalse(any(t.is_alive() for t in threads))
        finally:
            for portal in portals:
                portal.close()
        self.assertEqual(sum(p.connects for p in portals), count)
        successes = [r for r in results if isinstance(r, dict)]
        refusals = [r for r in results if isinstance(r, FailedPrecondition)]
        self.assertEqual(successes, [{"subjectId": s, "state": "ACTIVE"}], results)
        self.assertEqual(len(refusals), count - 1, results)
        self.assertTrue(all(r.reason == "TOKEN_USED" for r in refusals), results)
        completions = [e for e in self.admin.list_audit(subject_id=s).events if e.action == "COMPLETE_PORTAL_REGISTRATION"]
        self.assertEqual([e.outcome for e in completions], ["OK"])
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL").result, "VERIFIED")

    def test_registration_refusals(self) -> None:
        # No e-mail address, no registration.
        phone_only, _ = self.person("noemail", email=False, phones=[("602 555 0100", "CELL")])
        self.assert_error(FailedPrecondition, lambda: self.agent.start_registration(phone_only, actor=AGENT), reason="NO_EMAIL")
        self.assert_error(NotFound, lambda: self.agent.start_registration(sid("ghost"), actor=AGENT), "subjectId")
        self.assert_error(InvalidArgument, lambda: self.agent.start_registration(phone_only), "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.verifier.start_registration(phone_only, actor=AGENT))

        # A new registration e-mail replaces the token of the one before.
        s, address = self.person("replaced")
        first = self.registration_token(s, address)
        second = self.registration_token(s, address)
        self.assertNotEqual(first, second)
        self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(first, PASSWORD), reason="TOKEN_REPLACED")

        # A token that matches none, or whose secret is wrong, is unknown; one of another shape is invalid.
        token_id, secret = second.split(".")
        wrong_secret = token_id + "." + ("A" if secret[0] != "A" else "B") + secret[1:]
        unknown = self.assert_error(NotFound, lambda: self.verifier.complete_registration(wrong_secret, PASSWORD), "token")
        other = self.assert_error(NotFound, lambda: self.verifier.complete_registration(uuid.uuid4().hex + "." + secret, PASSWORD), "token")
        self.assertEqual((unknown.message, unknown.details), (other.message, other.details))
        for malformed in ("", token_id, second + "x", token_id.upper() + "." + secret, token_id + ":" + secret):
            self.assert_error(InvalidArgument, lambda: self.verifier.complete_registration(malformed, PASSWORD), "token", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.verifier.complete_registration(second, "short"), "password", "TOO_SHORT")
        self.assert_error(PermissionDenied, lambda: self.agent.complete_registration(second, PASSWORD))

        # A blocked person registers once unblocked: the refusal used nothing up.
        self.agent.set_security_details(s, pin=PIN, actor=AGENT)
        for _ in range(3):
            self.verifier.verify(s, pin=WRONG_PIN)
        self.assertTrue(self.agent.get_status(s).blocked)
        self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(second, PASSWORD), reason="BLOCKED")
        self.admin.unblock(s, "the caller proved who they are", actor=ADMIN)
        self.assertEqual(self.verifier.complete_registration(second, PASSWORD)["state"], "ACTIVE")
        self.assertEqual(self.verifier.verify(s, pin=PIN, password=PASSWORD, channel="PORTAL").result, "VERIFIED")

    def test_password_reset_end_to_end(self) -> None:
        s, address = self.person("reset")
        self.agent.set_security_details(s, pin=PIN, password=PASSWORD, actor=AGENT)
        issued = self.verifier.issue_code(s, "EMAIL", "PASSWORD_RESET")
        delivery = self.mail(address, "CODE_PASSWORD_RESET")
        self.assertEqual((delivery.channel, delivery.variables["purpose"]), ("EMAIL", "PASSWORD_RESET"))
        checked = self.verifier.verify_code(issued.challenge_id, delivery.variables["code"], subject_id=s, purpose="PASSWORD_RESET")
        self.assertTrue(checked.verified)

        self.assertEqual(self.verifier.reset_password(s, issued.challenge_id, NEW_PASSWORD), "ACTIVE")
        self.assertEqual(self.verifier.verify(s, password=NEW_PASSWORD, channel="PORTAL"), Verification("VERIFIED", 3))
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL").result, "MISMATCH")
        self.assertEqual(self.verifier.verify(s, pin=PIN).result, "VERIFIED")  # the PIN stays

        # The grant is used: a second reset on it is refused and changes nothing.
        self.assert_error(FailedPrecondition, lambda: self.verifier.reset_password(s, issued.challenge_id, PASSWORD), reason="GRANT_USED")
        self.assertEqual(self.verifier.verify(s, password=NEW_PASSWORD, channel="PORTAL").result, "VERIFIED")
        event = [e for e in self.admin.list_audit(subject_id=s).events if e.action == "RESET_PASSWORD"]
        self.assertEqual([e.outcome for e in event], ["OK"])
        self.assertIn(f"grant: challenge {issued.challenge_id}", event[0].facts)

    def test_password_reset_refusals(self) -> None:
        s, address = self.person("resetno")
        self.agent.set_security_details(s, pin=PIN, password=PASSWORD, actor=AGENT)
        # A code issued but not verified grants nothing.
        unverified = self.verifier.issue_code(s, "EMAIL", "PASSWORD_RESET")
        self.mail(address, "CODE_PASSWORD_RESET")
        self.assert_error(FailedPrecondition, lambda: self.verifier.reset_password(s, unverified.challenge_id, NEW_PASSWORD),
                          reason="CODE_NOT_VERIFIED")
        # A verified code of another purpose, or of another person, is unknown here.
        link_grant = self.verified_code(s, address, "ACCOUNT_LINK")
        self.assert_error(NotFound, lambda: self.verifier.reset_password(s, link_grant, NEW_PASSWORD), "challengeId")
        other, _ = self.person("resetother")
        self.assert_error(NotFound, lambda: self.verifier.reset_password(other, unverified.challenge_id, NEW_PASSWORD), "challengeId")
        self.assert_error(NotFound, lambda: self.verifier.reset_password(s, uuid.uuid4().hex, NEW_PASSWORD), "challengeId")
        self.assert_error(InvalidArgument, lambda: self.verifier.reset_password(s, "not-an-id", NEW_PASSWORD), "challengeId", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.verifier.reset_password(s, unverified.challenge_id, "short"), "newPassword", "TOO_SHORT")
        self.assert_error(PermissionDenied, lambda: self.agent.reset_password(s, unverified.challenge_id, NEW_PASSWORD))
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL").result, "VERIFIED")  # nothing changed


class LinkTests(_Procedure):
    @classmethod
    def setUpClass(cls) -> None:
        if live is None:
            support.verityd_path()  # raises SkipTest, saying why
        assert live is not None
        cls.open_clients(live)

    def linked_person(self, label: str):
        """A person linked automatically to a new account: (subject, account, e-mail address)."""
        s, address = self.person(label)
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        account = guid()
        submitted = self.submit(s, account, self.verified_code(s, address, "ACCOUNT_LINK"))
        self.assertEqual(submitted["outcome"], "LINKED")
        return s, account, address

    def test_a_full_match_with_a_verified_code_links_at_once(self) -> None:
        s, address = self.person("auto")
        name = f"Pat Quillfeather {tag()}"
        self.assertEqual(self.set_facts(s, name), {"subjectId": s, "cases": 4})
        account = guid()
        challenge = self.verified_code(s, address, "ACCOUNT_LINK")
        # Typed otherwise than on file: another date format, ZIP+4, the county and case number in
        # other case and spacing; the GUID in capitals.
        submitted = self.submit(s, account.upper(), challenge)
        self.assertEqual(submitted["outcome"], LinkOutcome.LINKED)
        self.assertEqual(submitted["linkRequests"], [])
        link = submitted["link"]
        self.assertEqual((link["portalAccountId"], link["subjectId"], link["method"]), (account, s, "AUTOMATIC"))
        self.assertRegex(link["linkedAt"], TIMESTAMP)

        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid()), reason="ALREADY_LINKED")
        other, _ = self.person("auto-other")
        self.set_facts(other, f"Sam Quillfeather {tag()}")
        self.assert_error(FailedPrecondition, lambda: self.submit(other, account), reason="ACCOUNT_LINKED_TO_ANOTHER_PERSON")
        self.assertEqual(list(self.agent.iter_link_requests(statuses=["PENDING", "PROCESSED", "REJECTED"], registrant_name=name)), [])

        events = self.admin.list_audit(subject_id=s).events
        submits = [e for e in events if e.action == "SUBMIT_LINK"]
        self.assertEqual([e.outcome for e in submits], ["LINKED"])  # the refusal after it linked nothing
        self.assertIn("code verified: yes", submits[0].facts)
        self.assertEqual(next(e for e in events if e.action == "SET_LINK_FACTS").actor, AGENT)
        text = json.dumps([list(e.facts) for e in events])
        for fact in ("1984-03-09", "03/09/1984", "19840309", "90210", "100200", "300400", "500600", "700800"):
            self.assertNotIn(fact, text, "a link fact reached the audit trail in clear")

    def test_a_zip_mismatch_is_queued_where_the_person_is_primary(self) -> None:
        s, address = self.person("zip")
        name = f"Pat Quillfeather {tag()}"
        self.set_facts(s, name)
        account = guid()
        requests = self.queued(s, account, self.verified_code(s, address, "ACCOUNT_LINK"), zip_code="90211")
        self.assertEqual([r["county"] for r in requests], QUEUE_COUNTIES, "not San Diego (out of the home), not Kern (not primary)")
        for request in requests:
            self.assertRegex(request["linkRequestId"], HEX32)
            self.assertEqual((request["subjectId"], request["portalAccountId"], request["registrantName"]), (s, account, name))
            self.assertEqual((request["status"], request["origin"], request["holds"]), ("PENDING", "PORTAL", ["ZIP_CODE_MISMATCH"]))
            self.assertEqual(request["submissionId"], requests[0]["submissionId"])
            self.assertEqual(request["requestedAt"], requests[0]["requestedAt"])
            self.assertRegex(request["requestedAt"], TIMESTAMP)
            self.assertNotIn("decidedAt", request)
            self.assertNotIn("decision", request)
        self.assertNotEqual(requests[0]["linkRequestId"], requests[1]["linkRequestId"])
        # The queue is in request time order, ties by id: the two of one submission in either order.
        oldest_first = sorted(requests, key=lambda r: (r["requestedAt"], r["linkRequestId"]))
        self.assertEqual(list(self.agent.iter_link_requests(registrant_name=name)), oldest_first)

        shown = self.agent.show_link_request(requests[1]["linkRequestId"])
        self.assertEqual(shown["linkRequest"], requests[1])
        self.assertFalse(shown["customerPrivacyActive"])
        self.assertNotIn("link", shown)
        self.assertEqual(shown["cases"], [
            {"county": "LOS ANGELES", "caseNumberEnding": "200", "primaryApplicant": True, "permanentlyOutOfHome": False, "childrenServicesActive": False},
            {"county": "ORANGE", "caseNumberEnding": "400", "primaryApplicant": True, "permanentlyOutOfHome": False, "childrenServicesActive": False},
            {"county": "SAN DIEGO", "caseNumberEnding": "600", "primaryApplicant": True, "permanentlyOutOfHome": True, "childrenServicesActive": False},
            {"county": "KERN", "caseNumberEnding": "800", "primaryApplicant": False, "permanentlyOutOfHome": False, "childrenServicesActive": False},
        ])
        self.assertNotIn("100200", json.dumps(shown))  # never the whole case number

    def test_every_mismatch_and_policy_holds_the_link(self) -> None:
        s, address = self.person("holds")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        account = guid()
        grant = self.verified_code(s, address, "ACCOUNT_LINK")
        both = self.queued(s, account, grant, date_of_birth="1984-03-10", county="KERN", case_number="KE700801")
        self.assertEqual(both[0]["holds"], ["DATE_OF_BIRTH_MISMATCH", "CASE_MISMATCH"])
        # The grant was used by that submission: the next, a full match, lacks a verified code.
        self.assertEqual(self.queued(s, account, grant)[0]["holds"], [LinkHold.CODE_NOT_VERIFIED])
        self.assertEqual(self.queued(s, account)[0]["holds"], ["CODE_NOT_VERIFIED"])
        unverified = self.verifier.issue_code(s, "EMAIL", "ACCOUNT_LINK")
        self.mail(address, "CODE_ACCOUNT_LINK")
        self.assertEqual(self.queued(s, account, unverified.challenge_id)[0]["holds"], ["CODE_NOT_VERIFIED"])
        # The case named exists but in San Diego, where the person is out of the home.
        self.assertEqual(self.queued(s, account, county="San Diego", case_number="SD500600")[0]["holds"],
                         ["CASE_MISMATCH", "CODE_NOT_VERIFIED"])

        # A county's policy holds even a full match with a verified code.
        held, held_address = self.person("policy")
        cases = [CASES[0], LinkCase("ORANGE", "OR300400", True, children_services_active=True)]
        self.set_facts(held, f"Sam Quillfeather {tag()}", cases, customer_privacy_active=True)
        requests = self.queued(held, guid(), self.verified_code(held, held_address, "ACCOUNT_LINK"))
        self.assertEqual([r["holds"] for r in requests], [["CHILDREN_SERVICES", "CUSTOMER_PRIVACY"]] * 2)
        shown = self.agent.show_link_request(requests[0]["linkRequestId"])
        self.assertTrue(shown["customerPrivacyActive"])
        self.assertEqual([c["childrenServicesActive"] for c in shown["cases"]], [False, True])

    def test_linking_one_request_processes_its_whole_submission(self) -> None:
        s, address = self.person("process")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        account = guid()
        la, orange = self.queued(s, account, self.verified_code(s, address, "ACCOUNT_LINK"), zip_code="90211")
        linked = self.agent.link_account(orange["linkRequestId"], actor=AGENT)["linkRequests"]
        self.assertEqual({r["linkRequestId"] for r in linked}, {la["linkRequestId"], orange["linkRequestId"]})
        by_id = {r["linkRequestId"]: r for r in linked}
        self.assertEqual(by_id[orange["linkRequestId"]]["decision"], "linked")
        self.assertEqual(by_id[la["linkRequestId"]]["decision"], f"linked with request {orange['linkRequestId']} in ORANGE")
        for request in linked:
            self.assertEqual(request["status"], "PROCESSED")
            self.assertRegex(request["decidedAt"], TIMESTAMP)
        self.assertEqual(self.status_of(la["linkRequestId"]), "PROCESSED")
        link = self.link_of(la["linkRequestId"])
        self.assertEqual((link["portalAccountId"], link["subjectId"], link["method"]), (account, s, "MANUAL"))

        self.assert_error(FailedPrecondition, lambda: self.agent.link_account(la["linkRequestId"], actor=AGENT), reason="REQUEST_CLOSED")
        self.assert_error(FailedPrecondition, lambda: self.agent.reject_link_request(la["linkRequestId"], "too late", actor=AGENT),
                          reason="REQUEST_CLOSED")
        self.assert_error(FailedPrecondition, lambda: self.submit(s, account), reason="ALREADY_LINKED")
        event = [e for e in self.admin.list_audit(subject_id=s).events if e.action == "LINK_ACCOUNT"]
        self.assertEqual([(e.outcome, e.actor) for e in event], [("PROCESSED", AGENT)])
        self.assertIn("requests processed: 2", event[0].facts)

    def test_rejecting_one_leaves_the_other_counties_pending(self) -> None:
        s, _ = self.person("reject")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        account = guid()
        la, orange = self.queued(s, account)
        later = self.queued(s, account)  # a fresh submission, made at another time
        self.assertNotEqual(later[0]["submissionId"], la["submissionId"])

        self.assert_error(InvalidArgument, lambda: self.agent.reject_link_request(la["linkRequestId"], "  ", actor=AGENT), "reason", "REQUIRED")
        rejected = self.agent.reject_link_request(la["linkRequestId"], "the caller could not confirm the case", actor=AGENT)
        self.assertEqual({k: v for k, v in rejected.items() if k not in ("status", "decidedAt", "decision")},
                         {k: v for k, v in la.items() if k not in ("status",)})
        self.assertEqual((rejected["status"], rejected["decision"]), ("REJECTED", "the caller could not confirm the case"))
        self.assertRegex(rejected["decidedAt"], TIMESTAMP)
        self.assertEqual(self.status_of(orange["linkRequestId"]), "PENDING")
        self.assertEqual([self.status_of(r["linkRequestId"]) for r in later], ["PENDING", "PENDING"])
        self.assert_error(FailedPrecondition, lambda: self.agent.reject_link_request(la["linkRequestId"], "again", actor=AGENT),
                          reason="REQUEST_CLOSED")
        self.assert_error(FailedPrecondition, lambda: self.agent.link_account(la["linkRequestId"], actor=AGENT), reason="REQUEST_CLOSED")

        # Linking the other county's request processes what is left of its submission only.
        processed = self.agent.link_account(orange["linkRequestId"], actor=AGENT)["linkRequests"]
        self.assertEqual([r["linkRequestId"] for r in processed], [orange["linkRequestId"]])
        self.assertEqual(self.status_of(la["linkRequestId"]), "REJECTED")
        self.assertEqual([self.status_of(r["linkRequestId"]) for r in later], ["PENDING", "PENDING"])
        self.assert_error(FailedPrecondition, lambda: self.agent.link_account(later[0]["linkRequestId"], actor=AGENT), reason="ALREADY_LINKED")
        event = [e for e in self.admin.list_audit(subject_id=s).events if e.action == "REJECT_LINK"]
        self.assertEqual([(e.outcome, e.actor) for e in event], [("REJECTED", AGENT)])
        self.assertIn("reason: the caller could not confirm the case", event[0].facts)

    def test_unlinking_as_admin_queues_the_person_again(self) -> None:
        s, account, _ = self.linked_person("unlink")
        self.assert_error(PermissionDenied, lambda: self.agent.unlink_account(s, "linked in error", actor=AGENT))
        self.assert_error(InvalidArgument, lambda: self.admin.unlink_account(s, "linked in error"), "metadata.actor", "REQUIRED")
        self.assert_error(InvalidArgument, lambda: self.admin.unlink_account(s, "", actor=ADMIN), "reason", "REQUIRED")

        requeued = self.admin.unlink_account(s, "the person says the account is not theirs", actor=ADMIN)["linkRequests"]
        self.assertEqual([r["county"] for r in requeued], QUEUE_COUNTIES)
        for request in requeued:
            self.assertEqual((request["status"], request["origin"], request["holds"], request["portalAccountId"], request["subjectId"]),
                             ("PENDING", "UNLINK", ["UNLINKED"], account, s))
        self.assertIsNone(self.link_of(requeued[0]["linkRequestId"]))
        self.assert_error(FailedPrecondition, lambda: self.admin.unlink_account(s, "again", actor=ADMIN), reason="NOT_LINKED")
        self.assert_error(NotFound, lambda: self.admin.unlink_account(sid("ghost"), "who", actor=ADMIN), "subjectId")
        event = [e for e in self.admin.list_audit(subject_id=s).events if e.action == "UNLINK_ACCOUNT"]
        self.assertEqual([(e.outcome, e.actor) for e in event], [("OK", ADMIN)])

        # A caseworker links them again, by hand.
        again = self.agent.link_account(requeued[1]["linkRequestId"], actor=AGENT)["linkRequests"]
        self.assertEqual(len(again), 2)
        self.assertEqual(self.link_of(requeued[0]["linkRequestId"])["method"], "MANUAL")

    def test_search_by_county_and_name_page_by_page(self) -> None:
        word = tag()
        pat, _ = self.person("search-pat")
        sam, _ = self.person("search-sam")
        self.set_facts(pat, f"Pat Quillfeather {word}")
        self.set_facts(sam, f"Sam Quillfeather {word}")
        made: List[dict] = []
        for s in (pat, sam, pat, sam):
            made += self.queued(s, guid(), date_of_birth="1990-01-01")
        in_la = [r for r in made if r["county"] == "LOS ANGELES"]
        oldest_first = [r["linkRequestId"] for r in sorted(in_la, key=lambda r: (r["requestedAt"], r["linkRequestId"]))]

        seen: List[str] = []
        pages = 0
        token: Optional[str] = None
        while True:
            page = self.agent.search_link_requests(registrant_name=word.lower(), county="los angeles", page_size=1, page_token=token)
            pages += 1
            self.assertEqual(len(page["linkRequests"]), 1)
            self.assertEqual(page["linkRequests"][0]["county"], "LOS ANGELES")
            seen += [r["linkRequestId"] for r in page["linkRequests"]]
            token = page.get("nextPageToken")
            if token is None:
                break
            self.assertLess(pages, 10, "the pages never end")
        self.assertEqual(pages, 4)
        self.assertEqual(seen, oldest_first)
        self.assertEqual([r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=word, county="LOS ANGELES", page_size=1)],
                         oldest_first)

        sams = [r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=f"sam quillfeather {word}", county="LOS ANGELES")]
        self.assertCountEqual(sams, [r["linkRequestId"] for r in in_la if r["subjectId"] == sam])
        self.assertEqual(len(list(self.agent.iter_link_requests(registrant_name=word, county="ORANGE", page_size=3))), 4)
        everything = self.agent.search_link_requests(registrant_name=word, page_size=100)
        self.assertCountEqual([r["linkRequestId"] for r in everything["linkRequests"]], [r["linkRequestId"] for r in made])
        self.assertNotIn("nextPageToken", everything)

        # By status: PENDING unless told otherwise.
        rejected = self.agent.reject_link_request(in_la[0]["linkRequestId"], "a duplicate", actor=AGENT)
        self.assertNotIn(rejected["linkRequestId"], [r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=word)])
        self.assertEqual([r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=word, statuses="REJECTED")],
                         [rejected["linkRequestId"]])
        self.assertEqual(len(list(self.agent.iter_link_requests(registrant_name=word, statuses=["PENDING", "REJECTED"]))), len(made))
        # By time, both ends included.
        first_time = min(r["requestedAt"] for r in made)
        early = list(self.agent.iter_link_requests(registrant_name=word, statuses=["PENDING", "REJECTED"], requested_to=first_time))
        self.assertTrue(early and all(r["requestedAt"] <= first_time for r in early))
        self.assertTrue({r["linkRequestId"] for r in made if r["requestedAt"] == first_time} <= {r["linkRequestId"] for r in early})
        self.assertEqual(len(list(self.agent.iter_link_requests(registrant_name=word, statuses=["PENDING", "REJECTED"],
                                                                requested_from=parse_timestamp(first_time)))), len(made))
        self.assertEqual(self.agent.search_link_requests(registrant_name=word, requested_from=datetime.now(timezone.utc) + timedelta(days=1)),
                         {"linkRequests": []})

        self.assert_error(InvalidArgument, lambda: self.agent.search_link_requests(page_size=0), "pageSize", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.agent.search_link_requests(page_size=101), "pageSize", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.agent.search_link_requests(page_token="not a token"), "pageToken", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.search_link_requests(statuses=["LOST"]), "statuses[0]", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.search_link_requests(requested_from="yesterday"), "requestedFrom", "INVALID_VALUE")
        self.assert_error(PermissionDenied, lambda: self.verifier.search_link_requests())

    def test_submission_refusals_queue_nothing(self) -> None:
        word = tag()
        # No facts on file.
        bare, _ = self.person("nofacts")
        self.assert_error(FailedPrecondition, lambda: self.submit(bare, guid()), reason="NO_LINK_FACTS")
        # The case named is one where the person is not the primary applicant.
        s, address = self.person("refuse")
        self.set_facts(s, f"Pat Quillfeather {word}")
        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid(), county="KERN", case_number="KE700800"),
                          reason="NOT_PRIMARY_APPLICANT")
        # Primary nowhere (or only out of the home): no county would take the request.
        nowhere, _ = self.person("nowhere")
        self.set_facts(nowhere, f"Sam Quillfeather {word}", [CASES[2], CASES[3]])
        self.assert_error(FailedPrecondition, lambda: self.submit(nowhere, guid()), reason="NOT_PRIMARY_APPLICANT")
        # No e-mail address and no phone that takes texts: a fax does not count.
        unreachable, _ = self.person("unreachable", email=False, phones=[("602 555 0199", "FAX")])
        self.set_facts(unreachable, f"Kim Quillfeather {word}")
        self.assert_error(FailedPrecondition, lambda: self.submit(unreachable, guid()), reason="NO_VERIFIABLE_CONTACT")
        # A challenge that is not one of this person's ACCOUNT_LINK codes is unknown.
        reset = self.verifier.issue_code(s, "EMAIL", "PASSWORD_RESET")
        self.mail(address, "CODE_PASSWORD_RESET")
        for challenge in (reset.challenge_id, uuid.uuid4().hex):
            self.assert_error(NotFound, lambda: self.submit(s, guid(), challenge), "challengeId")
        # Values of the wrong shape.
        for field, typed in (("portalAccountId", dict(account="not-a-guid")), ("zipCode", dict(zip_code="9021")),
                             ("dateOfBirth", dict(date_of_birth="1984-02-30")), ("caseNumber", dict(case_number="12")),
                             ("challengeId", dict(challenge_id="XYZ"))):
            account = typed.pop("account", guid())
            self.assert_error(InvalidArgument, lambda: self.submit(s, account, **typed), field, "INVALID_VALUE")
        self.assert_error(NotFound, lambda: self.submit(sid("ghost"), guid()), "subjectId")
        self.assert_error(PermissionDenied, lambda: self.agent.submit_link(s, guid(), DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400"))
        self.assertEqual(self.agent.search_link_requests(registrant_name=word, statuses=["PENDING", "PROCESSED", "REJECTED"]),
                         {"linkRequests": []})

    def test_set_facts_refusals(self) -> None:
        s, _ = self.person("facts")
        name = f"Pat Quillfeather {tag()}"
        self.assert_error(InvalidArgument, lambda: self.set_facts(s, name, []), "cases", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.set_facts(s, name, [CASES[0], LinkCase("Los Angeles", "la100200", False)]),
                          "cases[1]", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.set_facts(s, name, [LinkCase("ORANGE", "1", True)]), "cases[0].caseNumber",
                          "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.set_facts(s, " "), "registrantName", "REQUIRED")
        self.assert_error(InvalidArgument, lambda: self.agent.set_link_facts(s, name, "1984-13-01", ZIP_CODE, CASES, actor=AGENT),
                          "dateOfBirth", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.set_link_facts(s, name, DATE_OF_BIRTH, ZIP_CODE, CASES), "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.verifier.set_link_facts(s, name, DATE_OF_BIRTH, ZIP_CODE, CASES, actor=AGENT))
        self.assert_error(NotFound, lambda: self.set_facts(sid("ghost"), name), "subjectId")
        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid()), reason="NO_LINK_FACTS")  # nothing was kept
        # Facts replace those before.
        self.assertEqual(self.set_facts(s, name, CASES[:1])["cases"], 1)
        self.assertEqual(self.set_facts(s, name)["cases"], 4)

    def test_link_refusals_when_things_changed_since_the_request(self) -> None:
        # The person is no longer the primary applicant in the county of the request.
        s, _ = self.person("moved")
        name = f"Pat Quillfeather {tag()}"
        self.set_facts(s, name)
        la, orange = self.queued(s, guid())
        self.set_facts(s, name, [LinkCase("LOS ANGELES", "LA100200", False), CASES[1]])
        self.assert_error(FailedPrecondition, lambda: self.agent.link_account(la["linkRequestId"], actor=AGENT), reason="NOT_PRIMARY_APPLICANT")
        self.assertEqual(self.status_of(la["linkRequestId"]), "PENDING")
        # The account was linked to someone else in the meantime.
        account = guid()
        waiting = self.queued(s, account, county="ORANGE", case_number="OR300400")
        self.assertEqual([r["county"] for r in waiting], ["ORANGE"])
        other, other_address = self.person("taker")
        self.set_facts(other, f"Sam Quillfeather {tag()}")
        self.assertEqual(self.submit(other, account, self.verified_code(other, other_address, "ACCOUNT_LINK"))["outcome"], "LINKED")
        self.assert_error(FailedPrecondition, lambda: self.agent.link_account(waiting[0]["linkRequestId"], actor=AGENT),
                          reason="ACCOUNT_LINKED_TO_ANOTHER_PERSON")
        # Unknown and malformed requests; the roles and the actor.
        self.assert_error(NotFound, lambda: self.agent.link_account(uuid.uuid4().hex, actor=AGENT), "linkRequestId")
        self.assert_error(NotFound, lambda: self.agent.show_link_request(uuid.uuid4().hex), "linkRequestId")
        self.assert_error(NotFound, lambda: self.agent.reject_link_request(uuid.uuid4().hex, "why", actor=AGENT), "linkRequestId")
        self.assert_error(InvalidArgument, lambda: self.agent.show_link_request("nope"), "linkRequestId", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.link_account(orange["linkRequestId"]), "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.verifier.link_account(orange["linkRequestId"], actor=AGENT))
        self.assert_error(PermissionDenied, lambda: self.verifier.show_link_request(orange["linkRequestId"]))
        self.assertEqual(self.status_of(orange["linkRequestId"]), "PENDING")


class ExpiryTests(_Procedure):
    """The expiries, on a development server started with ``--dev-clock``."""

    dev: Optional[VerityServer] = None

    @classmethod
    def setUpClass(cls) -> None:
        support.verityd_path()  # raises SkipTest without a server binary
        server = VerityServer(extra_args=["--dev-clock"])
        try:
            server.start()
        except BaseException:
            server.cleanup()
            raise
        cls.dev = server
        cls.open_clients(server)

    @classmethod
    def tearDownClass(cls) -> None:
        super().tearDownClass()
        if cls.dev is not None:
            try:
                if cls.dev.running:
                    cls.dev.stop()
            finally:
                cls.dev.cleanup()

    def advance(self, seconds: int) -> None:
        moved = self.admin.advance_clock(seconds, actor=ADMIN)
        self.assertRegex(moved["now"], TIMESTAMP)

    def test_a_registration_token_expires_after_72_hours(self) -> None:
        s, address = self.person("expire")
        token = self.registration_token(s, address)
        self.advance(TOKEN_LIFETIME_SECONDS + 1)
        self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(token, PASSWORD), reason="TOKEN_EXPIRED")
        # A new registration e-mail works.
        self.assertEqual(self.verifier.complete_registration(self.registration_token(s, address), PASSWORD)["state"], "ACTIVE")

    def test_a_verified_code_grants_its_act_for_10_minutes(self) -> None:
        s, address = self.person("grant")
        self.agent.set_security_details(s, pin=PIN, password=PASSWORD, actor=AGENT)
        reset = self.verified_code(s, address, "PASSWORD_RESET")
        link = self.verified_code(s, address, "ACCOUNT_LINK")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        self.advance(GRANT_WINDOW_SECONDS + 1)
        self.assert_error(FailedPrecondition, lambda: self.verifier.reset_password(s, reset, NEW_PASSWORD), reason="GRANT_EXPIRED")
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL").result, "VERIFIED")
        # A link code past its window is not a verified code: the full match is queued.
        self.assertEqual(self.queued(s, guid(), link)[0]["holds"], ["CODE_NOT_VERIFIED"])
        # A fresh code, within its window, does it.
        self.assertEqual(self.verifier.reset_password(s, self.verified_code(s, address, "PASSWORD_RESET"), NEW_PASSWORD), "ACTIVE")


if __name__ == "__main__":
    unittest.main()
