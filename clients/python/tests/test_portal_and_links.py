"""Portal registration and password reset (verity.v1.Portal, procedure 001) and linking a portal
account to a person (verity.v1.Links, procedure 003): the request messages without a server,
then both procedures against a real verityd.

Most tests use a production-mode server, as test_change_requests does (the notifier leases the
registration e-mails and the codes itself). The expiries (a registration token after 72 hours, a
verified code's grant after 10 minutes) need a development server started with ``--dev-clock``;
the test class that needs it starts its own.

Every submission needs the grant of a verified ACCOUNT_LINK code, and the portal's answer says
only LINKED or QUEUED: the tests read what was queued, and why, as the caseworker does
(Links/Search, Links/Show). A person gets at most 5 codes an hour, so no test asks for more.
"""

from __future__ import annotations

import json
import re
import threading
import unittest
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Dict, List, Optional, Sequence

import harness
from harness import ADMIN, AGENT, HEX32, PIN, TIMESTAMP, WRONG_PIN, RecordingClient, answer

from verity_client import (
    Client,
    Delivery,
    FailedPrecondition,
    InvalidArgument,
    IssuedCode,
    LinkCase,
    LinkHold,
    LinkOutcome,
    LinkRequestStatus,
    NotFound,
    PermissionDenied,
    Verification,
    parse_timestamp,
)

TOKEN = re.compile(r"^[0-9a-f]{32}\.[A-Za-z0-9_-]{43}$")

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
EVERY_STATUS = ["PENDING", "PROCESSED", "REJECTED"]
GRANT_WINDOW_SECONDS = 600
TOKEN_LIFETIME_SECONDS = 72 * 3600


def sid(label: str) -> str:
    """A subject id no other test uses."""
    return harness.unique_id("py-pl", label)


def guid() -> str:
    """A portal account GUID no other test uses."""
    return str(uuid.uuid4())


def tag() -> str:
    """A word no other registrant's name has."""
    return "Q" + uuid.uuid4().hex[:12]


def oldest_first(requests: Sequence[dict]) -> List[dict]:
    """Link requests in queue order: by request time, ties by id."""
    return sorted(requests, key=lambda r: (r["requestedAt"], r["linkRequestId"]))


# =============================================================================================
# Request messages without a server


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
        client.submit_link("case-1", ACCOUNT, TYPED_DATE_OF_BIRTH, TYPED_ZIP_CODE, "los angeles", "la100200", RID)
        client.submit_link("case-1", ACCOUNT, DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400", challenge_id=RID)
        client.show_link_request(RID, actor=AGENT)
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
                                        "zipCode": TYPED_ZIP_CODE, "county": "los angeles", "caseNumber": "la100200", "challengeId": RID}),
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
        self.assertNotIn("metadata", client.sent[5])  # the portal's own call names no caseworker
        self.assertEqual(client.sent[7]["metadata"], {"actor": AGENT})
        self.assertEqual(client.sent[10]["metadata"], {"actor": ADMIN})

    def test_a_submission_needs_a_challenge(self) -> None:
        client = RecordingClient()
        with self.assertRaises(TypeError):  # challenge_id is required
            client.submit_link("case-1", ACCOUNT, DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400")  # type: ignore[call-arg]
        self.assertEqual(client.sent, [])
        # None leaves the field out, as a portal that lost it would: the server answers REQUIRED.
        client.submit_link("case-1", ACCOUNT, DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400", None)  # type: ignore[arg-type]
        self.assertNotIn("challengeId", client.sent[0]["message"])

    def test_search_filters(self) -> None:
        client = RecordingClient()
        client.search_link_requests(actor=AGENT)
        client.search_link_requests(statuses="PENDING", registrant_name="quill", county="ORANGE", page_size=1, page_token="17.ab", actor=AGENT)
        client.search_link_requests(statuses=[LinkRequestStatus.PROCESSED, "REJECTED"],
                                    requested_from=datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1))),
                                    requested_to="2026-12-02T00:00:00Z", actor=AGENT)
        self.assertEqual([e["message"] for e in client.sent], [
            {},
            {"statuses": ["PENDING"], "registrantName": "quill", "county": "ORANGE", "pageSize": 1, "pageToken": "17.ab"},
            {"statuses": ["PROCESSED", "REJECTED"], "requestedFrom": "2026-12-01T08:30:00.123Z", "requestedTo": "2026-12-02T00:00:00Z"},
        ])
        self.assertTrue(all(e["method"] == "verity.v1.Links/Search" for e in client.sent))
        self.assertTrue(all(e["metadata"] == {"actor": AGENT} for e in client.sent))
        with self.assertRaises(ValueError):
            client.search_link_requests(requested_from=datetime(2026, 12, 1), actor=AGENT)  # a naive time is refused

    def test_answers_come_as_the_server_gives_them(self) -> None:
        queued = {"outcome": "QUEUED", "submissionId": RID}
        linked = {"outcome": "LINKED", "link": {"portalAccountId": ACCOUNT, "subjectId": "case-1", "linkedAt": "2026-12-01T08:30:00.123Z",
                                                "method": "AUTOMATIC"}}
        shown = {"linkRequest": {"linkRequestId": RID}, "cases": [], "customerPrivacyActive": False}
        client = RecordingClient(answer(queued), answer(linked), answer(), answer(), answer(), answer(shown), answer({"state": "ACTIVE"}))
        # The Submit answer as it came: nothing added (no list of requests: the portal gets none).
        self.assertEqual(client.submit_link("case-1", ACCOUNT, DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400", RID), queued)
        self.assertEqual(client.submit_link("case-1", ACCOUNT, DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400", RID), linked)
        # Lists the server left out come back empty.
        self.assertEqual(client.search_link_requests(actor=AGENT), {"linkRequests": []})
        self.assertEqual(client.link_account(RID, actor=AGENT), {"linkRequests": []})
        self.assertEqual(client.unlink_account("case-1", "why", actor=ADMIN), {"linkRequests": []})
        self.assertEqual(client.show_link_request(RID, actor=AGENT), {**shown, "otherPendingRequests": []})
        self.assertEqual(client.reset_password("case-1", RID, NEW_PASSWORD), "ACTIVE")

    def test_iter_link_requests_follows_the_tokens(self) -> None:
        first = {"linkRequestId": "a" * 32}
        second = {"linkRequestId": "b" * 32}
        client = RecordingClient(answer({"linkRequests": [first], "nextPageToken": "1.a"}),
                                 answer({"linkRequests": [second]}))
        self.assertEqual(list(client.iter_link_requests(county="ORANGE", page_size=1, actor=AGENT)), [first, second])
        self.assertEqual([e["message"] for e in client.sent], [
            {"county": "ORANGE", "pageSize": 1},
            {"county": "ORANGE", "pageSize": 1, "pageToken": "1.a"},
        ])
        self.assertEqual([e["metadata"] for e in client.sent], [{"actor": AGENT}] * 2)

    def test_link_case_and_names(self) -> None:
        self.assertEqual(LinkCase("KERN", "KE700800", False, children_services_active=True).to_json(),
                         {"county": "KERN", "caseNumber": "KE700800", "primaryApplicant": False, "childrenServicesActive": True})
        self.assertEqual(LinkHold.ZIP_CODE_MISMATCH, "ZIP_CODE_MISMATCH")
        self.assertEqual(LinkOutcome.QUEUED, "QUEUED")
        # A submission without a verified code is refused, not held: no such hold any more.
        self.assertEqual([hold.value for hold in LinkHold], [
            "DATE_OF_BIRTH_MISMATCH", "ZIP_CODE_MISMATCH", "CASE_MISMATCH", "CHILDREN_SERVICES", "CUSTOMER_PRIVACY", "UNLINKED",
        ])


# =============================================================================================
# The procedures against a server


#: Production mode with the development PKI, as in test_client: the notifier leases the mail.
live = harness.ModuleServer(production=True)
setUpModule, tearDownModule = live.start, live.stop


class _Procedure(harness.LiveTestCase):
    """The steps of both procedures, on the module's server or (ExpiryTests) on one of the
    class's own. A test's people are remembered with their e-mail address and registrant name,
    so that a submission can fetch its own code and the caseworker can find what it queued."""

    shared = live

    def setUp(self) -> None:
        super().setUp()
        self.addresses: Dict[str, Optional[str]] = {}
        self.names: Dict[str, str] = {}

    def mail(self, destination: str, template: str, where: Optional[Callable[[Delivery], bool]] = None) -> Delivery:
        """The delivery ``template`` to ``destination`` (that ``where`` accepts), acknowledged."""
        return self.delivery(destination, template, where=where, ack=True)

    def code_mail(self, destination: str, purpose: str, issued: IssuedCode) -> Delivery:
        """The message that carries the code ``issued``, acknowledged."""
        return self.mail(destination, f"CODE_{purpose}", where=lambda d: d.variables.get("expiresAt") == issued.expires_at)

    def person(self, label: str, *, email: bool = True, phones: Sequence = ()):
        """A newly enrolled client and its e-mail address (None without one)."""
        s = sid(label)
        address = f"{s}@example.org" if email else None
        self.agent.enroll(s, emails=[address] if address else None, phones=list(phones) or None, actor=AGENT)
        self.addresses[s] = address
        return s, address

    def set_facts(self, s: str, name: str, cases: Sequence = CASES, **options) -> dict:
        self.names[s] = name
        return self.agent.set_link_facts(s, name, DATE_OF_BIRTH, ZIP_CODE, cases, actor=AGENT, **options)

    def verified_code(self, s: str, destination: str, purpose: str, channel: str = "EMAIL") -> str:
        """The challenge of a code for ``purpose`` sent to ``destination`` and verified."""
        issued = self.verifier.issue_code(s, channel, purpose)
        code = self.code_mail(destination, purpose, issued).variables["code"]
        self.assertTrue(self.verifier.verify_code(issued.challenge_id, code, subject_id=s, purpose=purpose).verified)
        return issued.challenge_id

    def grant(self, s: str) -> str:
        """The challenge of an ACCOUNT_LINK code e-mailed to the person and verified."""
        address = self.addresses[s]
        assert address is not None, "a code needs an e-mail address"
        return self.verified_code(s, address, "ACCOUNT_LINK")

    def registration_token(self, s: str, address: str) -> str:
        started = self.agent.start_registration(s, actor=AGENT)
        delivery = self.mail(address, "PORTAL_REGISTRATION", where=lambda d: d.variables.get("expiresAt") == started["expiresAt"])
        return delivery.variables["token"]

    def submit(self, s: str, account: str, challenge_id: Optional[str] = None, **typed) -> dict:
        """Links/Submit with the facts on file as a portal may type them, or with ``typed``
        instead, and ``challenge_id`` (by default a code verified for it now). The answer says
        LINKED with the link, or QUEUED with the submission id, and nothing else."""
        claim = dict(date_of_birth=TYPED_DATE_OF_BIRTH, zip_code=TYPED_ZIP_CODE, county="Los  Angeles", case_number="la 100-200")
        claim.update(typed)
        if challenge_id is None:
            challenge_id = self.grant(s)
        submitted = self.verifier.submit_link(s, account, challenge_id=challenge_id, **claim)
        expected = {"outcome", "link"} if submitted.get("outcome") == LinkOutcome.LINKED else {"outcome", "submissionId"}
        self.assertEqual(set(submitted), expected, submitted)
        return submitted

    def queued(self, s: str, account: str, challenge_id: Optional[str] = None, **typed) -> List[dict]:
        """Submits as :meth:`submit` does, expects QUEUED, and returns the submission's
        requests as the caseworker finds them in the queues, one per county, by county."""
        submitted = self.submit(s, account, challenge_id, **typed)
        self.assertEqual(submitted["outcome"], LinkOutcome.QUEUED)
        self.assertRegex(submitted["submissionId"], HEX32)
        requests = self.requests_of(s, submitted["submissionId"])
        self.assertTrue(requests, "a queued submission left no request in any county")
        return requests

    def requests_of(self, s: str, submission_id: str) -> List[dict]:
        """The requests of one submission of the person, in any status, by county."""
        found = self.agent.iter_link_requests(registrant_name=self.names[s], statuses=EVERY_STATUS, actor=AGENT)
        return sorted((r for r in found if r["submissionId"] == submission_id), key=lambda r: r["county"])

    def show(self, request_id: str) -> dict:
        return self.agent.show_link_request(request_id, actor=AGENT)

    def link_of(self, request_id: str) -> Optional[dict]:
        return self.show(request_id).get("link")

    def status_of(self, request_id: str) -> str:
        return self.show(request_id)["linkRequest"]["status"]


class PortalTests(_Procedure):
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

        # A blocked person gets no registration e-mail, and registers once unblocked: the refusals
        # used nothing up.
        self.agent.set_security_details(s, pin=PIN, actor=AGENT)
        for _ in range(3):
            self.verifier.verify(s, pin=WRONG_PIN)
        self.assertTrue(self.agent.get_status(s).blocked)
        self.assert_error(FailedPrecondition, lambda: self.agent.start_registration(s, actor=AGENT), reason="BLOCKED")
        self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(second, PASSWORD), reason="BLOCKED")
        self.admin.unblock(s, "the caller proved who they are", actor=ADMIN)
        # Registration leaves the lock's count of failed checks as it was.
        self.assertEqual(self.verifier.verify(s, pin=WRONG_PIN), Verification("MISMATCH", 2))
        self.assertEqual(self.verifier.complete_registration(second, PASSWORD)["state"], "ACTIVE")
        status = self.agent.get_status(s)
        self.assertEqual((status.state, status.consecutive_failures), ("ACTIVE", 1))
        self.assertEqual(self.verifier.verify(s, pin=PIN, password=PASSWORD, channel="PORTAL").result, "VERIFIED")
        # The refused StartRegistration sent nothing.
        self.assertEqual(self.deliveries_now(address), [])
        sent = [e for e in self.admin.list_audit(subject_id=s).events if e.action == "START_PORTAL_REGISTRATION"]
        self.assertEqual([e.outcome for e in sent], ["OK", "OK"])

    def test_a_token_stops_working_once_its_address_is_gone(self) -> None:
        s, address = self.person("moved")
        token = self.registration_token(s, address)
        new_address = f"{s}.new@example.org"
        self.agent.update_contacts(s, emails=[new_address], actor=AGENT)
        error = self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(token, PASSWORD), reason="TOKEN_REPLACED")
        self.assertEqual(error.message, "the e-mail address the token was sent to is no longer on file")
        self.assertFalse(self.agent.get_status(s).has_password)
        # A registration e-mail to the address on file now works; the old token stays dead.
        again = self.registration_token(s, new_address)
        self.assertEqual(self.verifier.complete_registration(again, PASSWORD), {"subjectId": s, "state": "ACTIVE"})
        self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(token, NEW_PASSWORD), reason="TOKEN_REPLACED")
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL").result, "VERIFIED")

    def test_password_reset_end_to_end(self) -> None:
        s, address = self.person("reset")
        self.agent.set_security_details(s, pin=PIN, password=PASSWORD, actor=AGENT)
        self.assertEqual(self.verifier.verify(s, pin=WRONG_PIN), Verification("MISMATCH", 2))
        issued = self.verifier.issue_code(s, "EMAIL", "PASSWORD_RESET")
        delivery = self.code_mail(address, "PASSWORD_RESET", issued)
        self.assertEqual((delivery.channel, delivery.variables["purpose"]), ("EMAIL", "PASSWORD_RESET"))
        checked = self.verifier.verify_code(issued.challenge_id, delivery.variables["code"], subject_id=s, purpose="PASSWORD_RESET")
        self.assertTrue(checked.verified)

        self.assertEqual(self.verifier.reset_password(s, issued.challenge_id, NEW_PASSWORD), "ACTIVE")
        # A reset changes the password only: not the state, nor the lock's count of failed checks.
        status = self.agent.get_status(s)
        self.assertEqual((status.state, status.consecutive_failures), ("ACTIVE", 1))
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
        self.code_mail(address, "PASSWORD_RESET", unverified)
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

    def test_a_reset_needs_an_emailed_code_and_a_password(self) -> None:
        # A code sent by text grants no reset, verified or not: the reset goes by e-mail.
        phone = "602 555 %04d" % (uuid.uuid4().int % 10000)
        s, _ = self.person("resettext", phones=[(phone, "CELL")])
        self.agent.set_security_details(s, pin=PIN, password=PASSWORD, actor=AGENT)
        by_text = self.verified_code(s, phone, "PASSWORD_RESET", channel="SMS")
        self.assert_error(FailedPrecondition, lambda: self.verifier.reset_password(s, by_text, NEW_PASSWORD), reason="CODE_NOT_BY_EMAIL")
        unverified = self.verifier.issue_code(s, "SMS", "PASSWORD_RESET")
        self.assertEqual(self.code_mail(phone, "PASSWORD_RESET", unverified).channel, "SMS")
        self.assert_error(FailedPrecondition, lambda: self.verifier.reset_password(s, unverified.challenge_id, NEW_PASSWORD),
                          reason="CODE_NOT_BY_EMAIL")
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL").result, "VERIFIED")  # nothing changed

        # A person without a password has none to reset: a reset registers no one.
        p, address = self.person("resetnopassword")
        self.agent.set_security_details(p, pin=PIN, actor=AGENT)
        grant = self.verified_code(p, address, "PASSWORD_RESET")
        self.assert_error(FailedPrecondition, lambda: self.verifier.reset_password(p, grant, NEW_PASSWORD), reason="NO_PASSWORD")
        self.assertFalse(self.agent.get_status(p).has_password)
        # The refusal used nothing up: once a password is set, the same grant resets it.
        self.agent.set_security_details(p, password=PASSWORD, actor=AGENT)
        self.assertEqual(self.verifier.reset_password(p, grant, NEW_PASSWORD), "ACTIVE")
        self.assertEqual(self.verifier.verify(p, password=NEW_PASSWORD, channel="PORTAL").result, "VERIFIED")


class LinkTests(_Procedure):
    def linked_person(self, label: str):
        """A person linked automatically to a new account: (subject, account, e-mail address)."""
        s, address = self.person(label)
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        account = guid()
        self.assertEqual(self.submit(s, account)["outcome"], "LINKED")
        return s, account, address

    def test_a_full_match_with_a_verified_code_links_at_once(self) -> None:
        s, _ = self.person("auto")
        name = f"Pat Quillfeather {tag()}"
        self.assertEqual(self.set_facts(s, name), {"subjectId": s, "cases": 4})
        account = guid()
        challenge = self.grant(s)
        # Typed otherwise than on file: another date format, ZIP+4, the county and case number in
        # other case and spacing; the GUID in capitals.
        submitted = self.submit(s, account.upper(), challenge)
        self.assertEqual(submitted["outcome"], LinkOutcome.LINKED)
        link = submitted["link"]
        self.assertEqual((link["portalAccountId"], link["subjectId"], link["method"]), (account, s, "AUTOMATIC"))
        self.assertRegex(link["linkedAt"], TIMESTAMP)

        # The grant is used up; a fresh one learns that the person is linked, or the account.
        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid(), challenge), reason="GRANT_USED")
        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid()), reason="ALREADY_LINKED")
        other, _ = self.person("auto-other")
        self.set_facts(other, f"Sam Quillfeather {tag()}")
        self.assert_error(FailedPrecondition, lambda: self.submit(other, account), reason="ACCOUNT_LINKED_TO_ANOTHER_PERSON")
        self.assertEqual(list(self.agent.iter_link_requests(statuses=EVERY_STATUS, registrant_name=name, actor=AGENT)), [])

        events = self.admin.list_audit(subject_id=s).events
        submits = [e for e in events if e.action == "SUBMIT_LINK"]
        self.assertEqual([e.outcome for e in submits], ["LINKED"])  # the refusals after it linked nothing
        self.assertIn(f"grant: challenge {challenge}", submits[0].facts)
        self.assertEqual(next(e for e in events if e.action == "SET_LINK_FACTS").actor, AGENT)
        text = json.dumps([list(e.facts) for e in events])
        for fact in ("1984-03-09", "03/09/1984", "19840309", "90210", "100200", "300400", "500600", "700800"):
            self.assertNotIn(fact, text, "a link fact reached the audit trail in clear")

    def test_the_portal_is_told_linked_or_queued_and_nothing_else(self) -> None:
        word = tag()
        s, _ = self.person("answer")
        cases = [CASES[0], LinkCase("ORANGE", "OR300400", True, children_services_active=True), CASES[2], CASES[3]]
        self.set_facts(s, f"Pat Quillfeather {word}", cases, customer_privacy_active=True)
        # Everything wrong at once: the date of birth, the ZIP code, a case where the person is
        # not the primary applicant, and both county policies.
        claim = {"subjectId": s, "portalAccountId": guid(), "dateOfBirth": "1984-03-10", "zipCode": "90211", "county": "Kern",
                 "caseNumber": "KE700800", "challengeId": self.grant(s)}
        response = self.verifier.call_raw({"method": "verity.v1.Links/Submit", "message": claim})
        self.assertEqual(response["status"], {"code": 0, "name": "OK"}, response)
        self.assertEqual(set(response["message"]), {"outcome", "submissionId"})
        self.assertEqual(response["message"]["outcome"], "QUEUED")
        self.assertRegex(response["message"]["submissionId"], HEX32)
        said = json.dumps(response)
        for secret in (word, "Quillfeather", "LOS ANGELES", "ORANGE", "SAN DIEGO", "KERN", "Kern", "MISMATCH", "CHILDREN", "PRIVACY",
                       "holds", "county", "registrantName", "linkRequests", "primary", "700800"):
            self.assertNotIn(secret, said, "the portal's answer tells more than LINKED or QUEUED")
        # The caseworker sees all of it.
        requests = self.requests_of(s, response["message"]["submissionId"])
        self.assertEqual([r["county"] for r in requests], QUEUE_COUNTIES)
        for request in requests:
            self.assertEqual(request["holds"], ["DATE_OF_BIRTH_MISMATCH", "ZIP_CODE_MISMATCH", "CASE_MISMATCH", "CHILDREN_SERVICES",
                                                "CUSTOMER_PRIVACY"])
            self.assertEqual(request["registrantName"], f"Pat Quillfeather {word}")

        # A link: the link and nothing else either.
        p, _ = self.person("answer-linked")
        self.set_facts(p, f"Sam Quillfeather {word}")
        account = guid()
        claim = {"subjectId": p, "portalAccountId": account, "dateOfBirth": DATE_OF_BIRTH, "zipCode": ZIP_CODE, "county": "LOS ANGELES",
                 "caseNumber": "LA100200", "challengeId": self.grant(p)}
        response = self.verifier.call_raw({"method": "verity.v1.Links/Submit", "message": claim})
        self.assertEqual(response["status"], {"code": 0, "name": "OK"}, response)
        self.assertEqual(set(response["message"]), {"outcome", "link"})
        self.assertEqual(response["message"]["outcome"], "LINKED")
        link = response["message"]["link"]
        self.assertEqual(set(link), {"portalAccountId", "subjectId", "linkedAt", "method"})
        self.assertEqual((link["portalAccountId"], link["subjectId"], link["method"]), (account, p, "AUTOMATIC"))
        self.assertNotIn("Quillfeather", json.dumps(response))

    def test_a_zip_mismatch_is_queued_where_the_person_is_primary(self) -> None:
        s, _ = self.person("zip")
        name = f"Pat Quillfeather {tag()}"
        self.set_facts(s, name)
        account = guid()
        requests = self.queued(s, account, zip_code="90211")
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
        self.assertEqual(list(self.agent.iter_link_requests(registrant_name=name, actor=AGENT)), oldest_first(requests))

        shown = self.show(requests[1]["linkRequestId"])
        self.assertEqual(shown["linkRequest"], requests[1])
        self.assertFalse(shown["customerPrivacyActive"])
        self.assertNotIn("link", shown)
        self.assertEqual(shown["otherPendingRequests"], [])  # not the other county's request of the same submission
        self.assertEqual(shown["cases"], [
            {"county": "LOS ANGELES", "caseNumberEnding": "200", "primaryApplicant": True, "permanentlyOutOfHome": False, "childrenServicesActive": False},
            {"county": "ORANGE", "caseNumberEnding": "400", "primaryApplicant": True, "permanentlyOutOfHome": False, "childrenServicesActive": False},
            {"county": "SAN DIEGO", "caseNumberEnding": "600", "primaryApplicant": True, "permanentlyOutOfHome": True, "childrenServicesActive": False},
            {"county": "KERN", "caseNumberEnding": "800", "primaryApplicant": False, "permanentlyOutOfHome": False, "childrenServicesActive": False},
        ])
        self.assertNotIn("100200", json.dumps(shown))  # never the whole case number

    def test_every_mismatch_and_policy_holds_the_link(self) -> None:
        s, _ = self.person("holds")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        both = self.queued(s, guid(), date_of_birth="1984-03-10", county="KERN", case_number="KE700801")
        self.assertEqual([r["holds"] for r in both], [["DATE_OF_BIRTH_MISMATCH", "CASE_MISMATCH"]] * 2)
        # The case number of one county typed with another.
        swapped = self.queued(s, guid(), county="Orange", case_number="LA100200")
        self.assertEqual([r["holds"] for r in swapped], [[LinkHold.CASE_MISMATCH]] * 2)

        # A county's policy holds even a full match with a verified code.
        held, _ = self.person("policy")
        cases = [CASES[0], LinkCase("ORANGE", "OR300400", True, children_services_active=True)]
        self.set_facts(held, f"Sam Quillfeather {tag()}", cases, customer_privacy_active=True)
        requests = self.queued(held, guid())
        self.assertEqual([r["holds"] for r in requests], [["CHILDREN_SERVICES", "CUSTOMER_PRIVACY"]] * 2)
        shown = self.show(requests[0]["linkRequestId"])
        self.assertTrue(shown["customerPrivacyActive"])
        self.assertEqual([c["childrenServicesActive"] for c in shown["cases"]], [False, True])

    def test_a_typed_case_where_the_person_is_not_primary_is_a_mismatch(self) -> None:
        s, _ = self.person("notprimary")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        # Kern: the person's case, but not as the primary applicant. Queued where they are, held
        # as a mismatch like any other: the portal learns nothing from it.
        kern = self.queued(s, guid(), county="Kern", case_number="KE-700800")
        self.assertEqual([(r["county"], r["holds"]) for r in kern], [(county, ["CASE_MISMATCH"]) for county in QUEUE_COUNTIES])
        # San Diego: primary, but permanently out of the home.
        out = self.queued(s, guid(), county="San Diego", case_number="SD500600")
        self.assertEqual([(r["county"], r["holds"]) for r in out], [(county, ["CASE_MISMATCH"]) for county in QUEUE_COUNTIES])
        self.assertNotEqual(kern[0]["submissionId"], out[0]["submissionId"])

    def test_one_pending_submission_per_account(self) -> None:
        s, _ = self.person("pending")
        name = f"Pat Quillfeather {tag()}"
        self.set_facts(s, name)
        account = guid()
        first = self.queued(s, account, zip_code="90211")
        # While a request for the account waits, the account is not submitted again, even with
        # everything right; the refusal uses up nothing.
        grant = self.grant(s)
        self.assert_error(FailedPrecondition, lambda: self.submit(s, account.upper(), grant), reason="REQUEST_PENDING")
        self.assertEqual(len(list(self.agent.iter_link_requests(registrant_name=name, statuses=EVERY_STATUS, actor=AGENT))), 2)
        # Another account of the person's is queued on the same grant.
        second = self.queued(s, guid(), grant, zip_code="90211")
        self.assertNotEqual(second[0]["submissionId"], first[0]["submissionId"])
        # Once nothing waits for the account (both counties rejected it), it may be submitted again.
        self.agent.reject_link_request(first[0]["linkRequestId"], "the ZIP code does not match", actor=AGENT)
        grant = self.grant(s)
        self.assert_error(FailedPrecondition, lambda: self.submit(s, account, grant), reason="REQUEST_PENDING")  # Orange still waits
        self.agent.reject_link_request(first[1]["linkRequestId"], "the ZIP code does not match", actor=AGENT)
        third = self.queued(s, account, grant, zip_code="90211")
        self.assertEqual([r["status"] for r in third], ["PENDING", "PENDING"])

    def test_show_lists_the_persons_other_pending_requests(self) -> None:
        s, _ = self.person("others")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        first = self.queued(s, guid(), zip_code="90211")
        second = self.queued(s, guid(), date_of_birth="1984-03-10")
        bystander, _ = self.person("others-bystander")
        self.set_facts(bystander, f"Sam Quillfeather {tag()}")
        self.queued(bystander, guid(), zip_code="90211")  # another person's: never listed

        shown = self.show(first[0]["linkRequestId"])
        self.assertEqual(shown["otherPendingRequests"], oldest_first(second))  # not its own submission's Orange request
        self.assertEqual(self.show(second[1]["linkRequestId"])["otherPendingRequests"], oldest_first(first))
        # Pending ones only.
        self.agent.reject_link_request(second[0]["linkRequestId"], "a duplicate", actor=AGENT)
        self.assertEqual(self.show(first[1]["linkRequestId"])["otherPendingRequests"], [second[1]])

        # Show names the caseworker, and what they looked at is in the audit trail.
        self.assert_error(InvalidArgument, lambda: self.agent.show_link_request(first[0]["linkRequestId"]), "metadata.actor", "REQUIRED")
        shows = [e for e in self.admin.list_audit(subject_id=s).events if e.action == "SHOW_LINK_REQUEST"]
        self.assertEqual([(e.outcome, e.actor, e.subject_id) for e in shows], [("OK", AGENT, s)] * 3)
        self.assertIn(f"request {first[0]['linkRequestId']}", shows[0].facts)
        self.assertIn(f"request {first[1]['linkRequestId']}", shows[2].facts)

    def test_linking_one_request_processes_its_whole_submission(self) -> None:
        s, _ = self.person("process")
        self.set_facts(s, f"Pat Quillfeather {tag()}")
        account = guid()
        la, orange = self.queued(s, account, zip_code="90211")
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
        la, orange = self.queued(s, guid(), zip_code="90211")
        later = self.queued(s, guid(), zip_code="90211")  # a fresh submission (another account), made at another time
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
        la_ids = [r["linkRequestId"] for r in oldest_first(in_la)]

        seen: List[str] = []
        pages = 0
        token: Optional[str] = None
        while True:
            page = self.agent.search_link_requests(registrant_name=word.lower(), county="los angeles", page_size=1, page_token=token, actor=AGENT)
            pages += 1
            self.assertEqual(len(page["linkRequests"]), 1)
            self.assertEqual(page["linkRequests"][0]["county"], "LOS ANGELES")
            seen += [r["linkRequestId"] for r in page["linkRequests"]]
            token = page.get("nextPageToken")
            if token is None:
                break
            self.assertLess(pages, 10, "the pages never end")
        self.assertEqual(pages, 4)
        self.assertEqual(seen, la_ids)
        self.assertEqual([r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=word, county="LOS ANGELES", page_size=1,
                                                                                    actor=AGENT)],
                         la_ids)

        sams = [r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=f"sam quillfeather {word}", county="LOS ANGELES",
                                                                           actor=AGENT)]
        self.assertCountEqual(sams, [r["linkRequestId"] for r in in_la if r["subjectId"] == sam])
        self.assertEqual(len(list(self.agent.iter_link_requests(registrant_name=word, county="ORANGE", page_size=3, actor=AGENT))), 4)
        everything = self.agent.search_link_requests(registrant_name=word, page_size=100, actor=AGENT)
        self.assertCountEqual([r["linkRequestId"] for r in everything["linkRequests"]], [r["linkRequestId"] for r in made])
        self.assertNotIn("nextPageToken", everything)

        # By status: PENDING unless told otherwise.
        rejected = self.agent.reject_link_request(in_la[0]["linkRequestId"], "a duplicate", actor=AGENT)
        self.assertNotIn(rejected["linkRequestId"], [r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=word, actor=AGENT)])
        self.assertEqual([r["linkRequestId"] for r in self.agent.iter_link_requests(registrant_name=word, statuses="REJECTED", actor=AGENT)],
                         [rejected["linkRequestId"]])
        self.assertEqual(len(list(self.agent.iter_link_requests(registrant_name=word, statuses=["PENDING", "REJECTED"], actor=AGENT))), len(made))
        # By time, both ends included.
        first_time = min(r["requestedAt"] for r in made)
        early = list(self.agent.iter_link_requests(registrant_name=word, statuses=["PENDING", "REJECTED"], requested_to=first_time, actor=AGENT))
        self.assertTrue(early and all(r["requestedAt"] <= first_time for r in early))
        self.assertTrue({r["linkRequestId"] for r in made if r["requestedAt"] == first_time} <= {r["linkRequestId"] for r in early})
        self.assertEqual(len(list(self.agent.iter_link_requests(registrant_name=word, statuses=["PENDING", "REJECTED"],
                                                                requested_from=parse_timestamp(first_time), actor=AGENT))), len(made))
        self.assertEqual(self.agent.search_link_requests(registrant_name=word, requested_from=datetime.now(timezone.utc) + timedelta(days=1),
                                                         actor=AGENT),
                         {"linkRequests": []})
        self.assertEqual(self.agent.search_link_requests(registrant_name=word, requested_from=first_time, requested_to=first_time,
                                                         statuses=["PENDING", "REJECTED"], actor=AGENT)["linkRequests"],
                         early)  # one instant: from and to the same time
        self.assertEqual(self.agent.search_link_requests(registrant_name="Q" * 200, actor=AGENT), {"linkRequests": []})

        search = self.agent.search_link_requests
        self.assert_error(InvalidArgument, lambda: search(page_size=0, actor=AGENT), "pageSize", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: search(page_size=101, actor=AGENT), "pageSize", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: search(page_token="not a token", actor=AGENT), "pageToken", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: search(statuses=["LOST"], actor=AGENT), "statuses[0]", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: search(requested_from="yesterday", actor=AGENT), "requestedFrom", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: search(requested_from=first_time, requested_to=parse_timestamp(first_time) - timedelta(seconds=1),
                                                          actor=AGENT),
                          "requestedTo", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: search(registrant_name="Q" * 201, actor=AGENT), "registrantName", "TOO_LONG")
        self.assert_error(InvalidArgument, lambda: search(registrant_name="Pat\u0007Quillfeather", actor=AGENT), "registrantName", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: search(registrant_name=word), "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.verifier.search_link_requests(actor=AGENT))

    def test_submission_refusals_of_the_proof_and_the_shapes(self) -> None:
        word = tag()
        s, address = self.person("refuse")
        self.set_facts(s, f"Pat Quillfeather {word}")
        typed = {"subjectId": s, "portalAccountId": guid(), "dateOfBirth": TYPED_DATE_OF_BIRTH, "zipCode": TYPED_ZIP_CODE,
                 "county": "Los Angeles", "caseNumber": "LA100200"}
        # No challenge at all.
        self.assert_error(InvalidArgument, lambda: self.verifier.call("verity.v1.Links/Submit", typed), "challengeId", "REQUIRED")
        self.assert_error(InvalidArgument, lambda: self.verifier.submit_link(s, guid(), DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400",
                                                                             None),  # type: ignore[arg-type]
                          "challengeId", "REQUIRED")
        # A challenge that is not one of this person's ACCOUNT_LINK codes is unknown: another
        # purpose's, another person's, or none.
        reset = self.verifier.issue_code(s, "EMAIL", "PASSWORD_RESET")
        self.code_mail(address, "PASSWORD_RESET", reset)
        other, _ = self.person("refuse-other")
        for challenge in (reset.challenge_id, self.grant(other), uuid.uuid4().hex):
            self.assert_error(NotFound, lambda: self.submit(s, guid(), challenge), "challengeId")
        # A code issued but not verified is no proof.
        unverified = self.verifier.issue_code(s, "EMAIL", "ACCOUNT_LINK")
        self.code_mail(address, "ACCOUNT_LINK", unverified)
        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid(), unverified.challenge_id), reason="CODE_NOT_VERIFIED")
        # Values of the wrong shape, refused before any challenge is looked up.
        for field, claim in (("portalAccountId", dict(account="not-a-guid")), ("zipCode", dict(zip_code="9021")),
                             ("zipCode", dict(zip_code="90210 1234")), ("zipCode", dict(zip_code="9021-01234")),
                             ("zipCode", dict(zip_code="90210-123")), ("dateOfBirth", dict(date_of_birth="1984-02-30")),
                             ("caseNumber", dict(case_number="12")), ("challengeId", dict(challenge_id="XYZ")),
                             ("challengeId", dict(challenge_id=uuid.uuid4().hex.upper()))):
            account = claim.pop("account", guid())
            claim.setdefault("challenge_id", uuid.uuid4().hex)
            self.assert_error(InvalidArgument, lambda: self.submit(s, account, **claim), field, "INVALID_VALUE")
        self.assert_error(NotFound, lambda: self.submit(sid("ghost"), guid(), uuid.uuid4().hex), "subjectId")
        self.assert_error(PermissionDenied, lambda: self.agent.submit_link(s, guid(), DATE_OF_BIRTH, ZIP_CODE, "ORANGE", "OR300400", uuid.uuid4().hex))
        self.assertEqual(self.agent.search_link_requests(registrant_name=word, statuses=EVERY_STATUS, actor=AGENT), {"linkRequests": []})

    def test_submission_refusals_after_the_proof_queue_nothing(self) -> None:
        word = tag()
        # The proof comes first: without it the portal learns nothing, not even that the person is linked.
        linked, _, _ = self.linked_person("refuse-linked")
        self.assert_error(NotFound, lambda: self.submit(linked, guid(), uuid.uuid4().hex), "challengeId")
        unverified = self.verifier.issue_code(linked, "EMAIL", "ACCOUNT_LINK")
        self.code_mail(self.addresses[linked], "ACCOUNT_LINK", unverified)
        self.assert_error(FailedPrecondition, lambda: self.submit(linked, guid(), unverified.challenge_id), reason="CODE_NOT_VERIFIED")
        self.assert_error(FailedPrecondition, lambda: self.submit(linked, guid()), reason="ALREADY_LINKED")
        # No facts on file.
        bare, _ = self.person("nofacts")
        self.assert_error(FailedPrecondition, lambda: self.submit(bare, guid()), reason="NO_LINK_FACTS")
        # Primary applicant nowhere that takes requests (only out of the home, or not primary).
        nowhere, _ = self.person("nowhere")
        self.set_facts(nowhere, f"Sam Quillfeather {word}", [CASES[2], CASES[3]])
        self.assert_error(FailedPrecondition, lambda: self.submit(nowhere, guid()), reason="NOT_PRIMARY_APPLICANT")
        # No e-mail address and no phone that takes texts any more: a fax does not count.
        unreachable, _ = self.person("unreachable")
        self.set_facts(unreachable, f"Kim Quillfeather {word}")
        grant = self.grant(unreachable)
        self.agent.update_contacts(unreachable, phones=[("602 555 0199", "FAX")], actor=AGENT)
        self.assert_error(FailedPrecondition, lambda: self.submit(unreachable, guid(), grant), reason="NO_VERIFIABLE_CONTACT")
        self.assertEqual(self.agent.search_link_requests(registrant_name=word, statuses=EVERY_STATUS, actor=AGENT), {"linkRequests": []})
        # The refusals used no grant up.
        self.agent.update_contacts(unreachable, emails=[f"{unreachable}@example.org"], actor=AGENT)
        self.assertEqual(self.submit(unreachable, guid(), grant)["outcome"], "LINKED")

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
        for zip_code in ("9021", "90210 1234", "9021-01234", "90210-123", "90210-", "9O210"):
            self.assert_error(InvalidArgument, lambda: self.agent.set_link_facts(s, name, DATE_OF_BIRTH, zip_code, CASES, actor=AGENT),
                              "zipCode", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.set_link_facts(s, name, DATE_OF_BIRTH, ZIP_CODE, CASES), "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.verifier.set_link_facts(s, name, DATE_OF_BIRTH, ZIP_CODE, CASES, actor=AGENT))
        self.assert_error(NotFound, lambda: self.set_facts(sid("ghost"), name), "subjectId")
        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid()), reason="NO_LINK_FACTS")  # nothing was kept
        # Facts replace those before; a ZIP code in each of its forms, spaces at the ends ignored.
        self.assertEqual(self.set_facts(s, name, CASES[:1])["cases"], 1)
        for zip_code in (" 90210 ", "90210-1234", "902101234"):
            self.assertEqual(self.agent.set_link_facts(s, name, DATE_OF_BIRTH, zip_code, CASES, actor=AGENT)["cases"], 4)

    def test_link_refusals_when_things_changed_since_the_request(self) -> None:
        # The person is no longer the primary applicant in the county of the request.
        s, _ = self.person("moved")
        name = f"Pat Quillfeather {tag()}"
        self.set_facts(s, name)
        la, orange = self.queued(s, guid(), zip_code="90211")
        self.set_facts(s, name, [LinkCase("LOS ANGELES", "LA100200", False), CASES[1]])
        self.assert_error(FailedPrecondition, lambda: self.agent.link_account(la["linkRequestId"], actor=AGENT), reason="NOT_PRIMARY_APPLICANT")
        self.assertEqual(self.status_of(la["linkRequestId"]), "PENDING")
        # The account was linked to someone else in the meantime.
        account = guid()
        waiting = self.queued(s, account, county="ORANGE", case_number="OR300400", zip_code="90211")
        self.assertEqual([r["county"] for r in waiting], ["ORANGE"])
        other, _ = self.person("taker")
        self.set_facts(other, f"Sam Quillfeather {tag()}")
        self.assertEqual(self.submit(other, account)["outcome"], "LINKED")
        self.assert_error(FailedPrecondition, lambda: self.agent.link_account(waiting[0]["linkRequestId"], actor=AGENT),
                          reason="ACCOUNT_LINKED_TO_ANOTHER_PERSON")
        # Unknown and malformed requests; the roles and the actor.
        self.assert_error(NotFound, lambda: self.agent.link_account(uuid.uuid4().hex, actor=AGENT), "linkRequestId")
        self.assert_error(NotFound, lambda: self.show(uuid.uuid4().hex), "linkRequestId")
        self.assert_error(NotFound, lambda: self.agent.reject_link_request(uuid.uuid4().hex, "why", actor=AGENT), "linkRequestId")
        self.assert_error(InvalidArgument, lambda: self.show("nope"), "linkRequestId", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.link_account(orange["linkRequestId"]), "metadata.actor", "REQUIRED")
        self.assert_error(InvalidArgument, lambda: self.agent.show_link_request(orange["linkRequestId"]), "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.verifier.link_account(orange["linkRequestId"], actor=AGENT))
        self.assert_error(PermissionDenied, lambda: self.verifier.show_link_request(orange["linkRequestId"], actor=AGENT))
        self.assertEqual(self.status_of(orange["linkRequestId"]), "PENDING")


class ExpiryTests(_Procedure, harness.DevClockTestCase):
    """The expiries, on a development server started with ``--dev-clock``."""

    def test_a_registration_token_expires_after_72_hours(self) -> None:
        s, address = self.person("expire")
        token = self.registration_token(s, address)
        self.advance(TOKEN_LIFETIME_SECONDS + 1)
        self.assert_error(FailedPrecondition, lambda: self.verifier.complete_registration(token, PASSWORD), reason="TOKEN_EXPIRED")
        # A new registration e-mail works.
        self.assertEqual(self.verifier.complete_registration(self.registration_token(s, address), PASSWORD)["state"], "ACTIVE")

    def test_a_verified_code_grants_its_act_for_10_minutes(self) -> None:
        s, address = self.person("grant")
        name = f"Pat Quillfeather {tag()}"
        self.agent.set_security_details(s, pin=PIN, password=PASSWORD, actor=AGENT)
        reset = self.verified_code(s, address, "PASSWORD_RESET")
        link = self.grant(s)
        self.set_facts(s, name)
        self.advance(GRANT_WINDOW_SECONDS + 1)
        self.assert_error(FailedPrecondition, lambda: self.verifier.reset_password(s, reset, NEW_PASSWORD), reason="GRANT_EXPIRED")
        self.assertEqual(self.verifier.verify(s, password=PASSWORD, channel="PORTAL").result, "VERIFIED")
        # A link grant past its window is refused: nothing is queued.
        self.assert_error(FailedPrecondition, lambda: self.submit(s, guid(), link), reason="GRANT_EXPIRED")
        self.assertEqual(list(self.agent.iter_link_requests(registrant_name=name, statuses=EVERY_STATUS, actor=AGENT)), [])
        # Fresh codes, within their window, do it.
        self.assertEqual(self.verifier.reset_password(s, self.verified_code(s, address, "PASSWORD_RESET"), NEW_PASSWORD), "ACTIVE")
        self.assertEqual(self.submit(s, guid())["outcome"], "LINKED")


if __name__ == "__main__":
    unittest.main()
