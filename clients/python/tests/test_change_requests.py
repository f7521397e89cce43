"""Change requests (verity.v1.ChangeRequests, procedure 002) and the development clock
(verity.v1.Development/AdvanceClock): the request messages without a server, then the whole
procedure against a real verityd.

Most tests use a production-mode server, as test_client does (the notifier leases the letters
itself). The timed steps (reminder, automatic decline) need a development server started with
``--dev-clock``, whose clock AdvanceClock moves forward; the test class that needs it starts
its own.
"""

from __future__ import annotations

import unittest
import uuid
from datetime import datetime, timedelta, timezone
from typing import List, Optional

import harness
from harness import ADMIN, AGENT, HEX32, NEW_PIN, PIN, TIMESTAMP, WRONG_PIN, RecordingClient, answer

from verity_client import (
    ChangeRequestReason,
    ChangeRequestSource,
    ChangeRequestStatus,
    Delivery,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    PostalAddress,
    Unimplemented,
    Verification,
    parse_timestamp,
)

#: What the scheduler records when nobody answered the form and the reminder.
NO_RESPONSE = "no response to CMSL9800 and the CMSL9801 reminder"
WEEK = timedelta(days=7)
DAY_SECONDS = 24 * 3600


def sid(label: str) -> str:
    """A subject id no other test uses."""
    return harness.unique_id("py-cr", label)


def address_for(subject_id: str) -> PostalAddress:
    """A postal address no other subject has, so that its letters can be told apart."""
    return PostalAddress(lines=("Pat Quillfeather", f"{uuid.uuid4().int % 9000 + 100} Elm Street, case {subject_id}",
                                "Springfield"), postal_code="62701")


# =============================================================================================
# Request messages without a server


RID = "0123456789abcdef0123456789abcdef"


class ChangeRequestMessageTests(unittest.TestCase):
    def test_each_method_sends_its_path_and_fields(self) -> None:
        client = RecordingClient()
        client.raise_change_request("case-1", ChangeRequestSource.PHONE, ChangeRequestReason.BLOCKED_AFTER_FAILED_CHECKS,
                                    "Pat Quillfeather, the client", actor=AGENT, request_id="r-1")
        client.change_request(RID)
        client.receive_change_request_form(RID, "case-1", actor=AGENT)
        client.accept_change_request(RID, "case-1", new_pin=NEW_PIN, actor=AGENT, timeout_ms=3000)
        client.accept_change_request(RID, "case-1", new_password="Blue kettle 1987", confirm_by_sms=True, actor=AGENT)
        client.decline_change_request(RID, "case-1", "the form was not signed", actor=AGENT)
        client.close_change_request(RID, "case-1", "raised in error", actor=AGENT)
        client.advance_clock(8 * DAY_SECONDS, actor=ADMIN)
        self.assertEqual([(e["method"], e["message"]) for e in client.sent], [
            ("verity.v1.ChangeRequests/Raise", {"subjectId": "case-1", "source": "PHONE", "reason": "BLOCKED_AFTER_FAILED_CHECKS",
                                                "reportedBy": "Pat Quillfeather, the client"}),
            ("verity.v1.ChangeRequests/Get", {"changeRequestId": RID}),
            ("verity.v1.ChangeRequests/ReceiveForm", {"changeRequestId": RID, "subjectId": "case-1"}),
            ("verity.v1.ChangeRequests/Accept", {"changeRequestId": RID, "subjectId": "case-1", "newPin": NEW_PIN}),
            ("verity.v1.ChangeRequests/Accept", {"changeRequestId": RID, "subjectId": "case-1", "newPassword": "Blue kettle 1987",
                                                 "confirmBySms": True}),
            ("verity.v1.ChangeRequests/Decline", {"changeRequestId": RID, "subjectId": "case-1", "reason": "the form was not signed"}),
            ("verity.v1.ChangeRequests/Close", {"changeRequestId": RID, "subjectId": "case-1", "reason": "raised in error"}),
            ("verity.v1.Development/AdvanceClock", {"seconds": 8 * DAY_SECONDS}),
        ])
        self.assertEqual(client.sent[0]["metadata"], {"actor": AGENT, "requestId": "r-1"})
        self.assertNotIn("metadata", client.sent[1])
        self.assertEqual(client.sent[3]["timeoutMs"], 3000)
        self.assertEqual(client.sent[7]["metadata"], {"actor": ADMIN})

    def test_list_filters(self) -> None:
        client = RecordingClient()
        client.list_change_requests()
        client.list_change_requests(statuses="WAITING", subject_id="case-1", overdue=True, page_size=1, page_token="17.ab")
        client.list_change_requests(statuses=[ChangeRequestStatus.OPEN, "IN_PROGRESS"],
                                    due_before=datetime(2026, 12, 1, 9, 30, 0, 123456, tzinfo=timezone(timedelta(hours=1))))
        client.list_change_requests(due_before="2026-12-01T00:00:00.000Z", overdue=False)
        self.assertEqual([e["message"] for e in client.sent], [
            {},
            {"statuses": ["WAITING"], "subjectId": "case-1", "overdue": True, "pageSize": 1, "pageToken": "17.ab"},
            {"statuses": ["OPEN", "IN_PROGRESS"], "dueBefore": "2026-12-01T08:30:00.123Z"},
            {"dueBefore": "2026-12-01T00:00:00.000Z", "overdue": False},
        ])
        self.assertEqual({e["method"] for e in client.sent}, {"verity.v1.ChangeRequests/List"})
        with self.assertRaises(ValueError):  # a time without its zone is refused before any call
            client.list_change_requests(due_before=datetime(2026, 12, 1))
        self.assertEqual(len(client.sent), 4)

    def test_iter_change_requests_follows_the_page_tokens(self) -> None:
        pages = [
            answer({"changeRequests": [{"changeRequestId": "a"}], "nextPageToken": "1.a"}),
            answer({"changeRequests": [{"changeRequestId": "b"}], "nextPageToken": "2.b"}),
            answer({"changeRequests": [{"changeRequestId": "c"}]}),
        ]
        client = RecordingClient(*pages)
        found = [r["changeRequestId"] for r in client.iter_change_requests(subject_id="case-1", page_size=1, actor=AGENT)]
        self.assertEqual(found, ["a", "b", "c"])
        self.assertEqual([e["message"] for e in client.sent], [
            {"subjectId": "case-1", "pageSize": 1},
            {"subjectId": "case-1", "pageSize": 1, "pageToken": "1.a"},
            {"subjectId": "case-1", "pageSize": 1, "pageToken": "2.b"},
        ])
        self.assertEqual(RecordingClient(answer({})).list_change_requests(), {"changeRequests": []})

    def test_postal_addresses_go_into_the_contacts(self) -> None:
        client = RecordingClient()
        home = PostalAddress(("Pat Quillfeather", "12 Elm Street", "Springfield"), "62701")
        abroad = {"lines": ("Pat Quillfeather", "1 High Street", "Oxford"), "postalCode": "OX1 1AA", "country": "GB"}
        client.enroll("case-1", emails=["pat@example.org"], postal_addresses=[home, abroad])
        client.update_contacts("case-1", phones=[("602 555 0100", "CELL")], postal_addresses=[home])
        client.update_contacts("case-1", emails=["pat@example.org"])
        client.enroll("case-2")
        self.assertEqual(client.sent[0]["message"]["contacts"], {
            "emails": ["pat@example.org"],
            "postalAddresses": [
                {"lines": ["Pat Quillfeather", "12 Elm Street", "Springfield"], "postalCode": "62701"},
                {"lines": ["Pat Quillfeather", "1 High Street", "Oxford"], "postalCode": "OX1 1AA", "country": "GB"},
            ],
        })
        self.assertEqual(client.sent[1]["message"]["contacts"], {
            "phones": [{"number": "602 555 0100", "type": "CELL"}],
            "postalAddresses": [{"lines": ["Pat Quillfeather", "12 Elm Street", "Springfield"], "postalCode": "62701"}],
        })
        self.assertEqual(client.sent[2]["message"]["contacts"], {"emails": ["pat@example.org"]})  # the addresses go
        self.assertNotIn("contacts", client.sent[3]["message"])
        self.assertEqual(home.destination, "Pat Quillfeather\n12 Elm Street\nSpringfield\n62701")
        self.assertEqual(PostalAddress(("A", "B"), "OX1 1AA", "GB").destination, "A\nB\nOX1 1AA\nGB")


# =============================================================================================
# The procedure against a server


#: Production mode with the development PKI, as in test_client: the notifier leases the letters.
live = harness.ModuleServer(production=True)
setUpModule, tearDownModule = live.start, live.stop


class _Procedure(harness.LiveTestCase):
    """The steps of the procedure, on the module's server or (DevelopmentClockTests) on one of
    the class's own."""

    shared = live

    def subject(self, label: str, *, with_address: bool = True, blocked: bool = False):
        """An ACTIVE client with PIN ``PIN`` (and a postal address unless told otherwise),
        BLOCKED after three failed checks if asked."""
        s = sid(label)
        address = address_for(s) if with_address else None
        self.agent.enroll(s, postal_addresses=[address] if address else None, actor=AGENT)
        self.agent.set_security_details(s, pin=PIN, actor=AGENT)
        if blocked:
            for remaining in (2, 1, 0):
                self.assertEqual(self.verifier.verify(s, pin=WRONG_PIN), Verification("MISMATCH", remaining))
            self.assertTrue(self.agent.get_status(s).blocked)
        return s, address

    def letter(self, address: PostalAddress, template: str) -> Delivery:
        """The letter ``template`` to ``address``, leased by channel (it is committed with the act)."""
        return self.delivery(address.destination, template, channels=["LETTER"])

    def assert_waits_a_week_from(self, request: dict, sent_at: str) -> None:
        self.assertRegex(request["dueAt"], TIMESTAMP)
        self.assertEqual(parse_timestamp(request["dueAt"]) - parse_timestamp(sent_at), WEEK)
        self.assertFalse(request["overdue"])


class ChangeRequestTests(_Procedure):
    def raise_by_phone(self, s: str, reason: str = "BLOCKED_AFTER_FAILED_CHECKS") -> dict:
        return self.agent.raise_change_request(s, "PHONE", reason, "Pat Quillfeather, the client", actor=AGENT)

    def test_raise_for_a_blocked_subject_sends_the_form_and_waits_a_week(self) -> None:
        s, address = self.subject("raise", blocked=True)
        raised = self.raise_by_phone(s)
        self.assertRegex(raised["changeRequestId"], HEX32)
        self.assertEqual((raised["subjectId"], raised["source"], raised["reason"], raised["reportedBy"], raised["status"]),
                         (s, "PHONE", "BLOCKED_AFTER_FAILED_CHECKS", "Pat Quillfeather, the client", "WAITING"))
        self.assertEqual(raised["status"], ChangeRequestStatus.WAITING)
        self.assertRegex(raised["formSentAt"], TIMESTAMP)
        self.assertEqual(raised["formSentAt"], raised["createdAt"])
        self.assert_waits_a_week_from(raised, raised["formSentAt"])
        for absent in ("reminderSentAt", "formReceivedAt", "closedAt", "resolutionReason", "confirmation"):
            self.assertNotIn(absent, raised)
        self.assertEqual(self.agent.change_request(raised["changeRequestId"]), raised)
        self.assertTrue(self.agent.get_status(s).blocked)  # raising changes nothing of the subject

        form = self.letter(address, "CMSL9800")
        self.assertEqual(form.channel, "LETTER")
        self.assertEqual(form.destination, "\n".join([*address.lines, address.postal_code]))
        self.assertEqual(form.variables, {"changeRequestId": raised["changeRequestId"], "subjectId": s, "respondBy": raised["dueAt"]})
        self.assertRegex(form.lease_token, HEX32)
        self.assertIsNone(self.notifier.ack(form.delivery_id, lease_token=form.lease_token))

        events = self.admin.list_audit(subject_id=s).events
        self.assertEqual((events[-1].action, events[-1].outcome, events[-1].actor), ("RAISE_CHANGE_REQUEST", "WAITING", AGENT))
        self.assertIn(f"request {raised['changeRequestId']}", events[-1].facts)

    def test_a_second_request_is_refused_while_one_is_active(self) -> None:
        s, address = self.subject("twice", blocked=True)
        first = self.raise_by_phone(s)
        error = self.assert_error(FailedPrecondition, lambda: self.raise_by_phone(s), reason="REQUEST_ACTIVE")
        self.assertEqual(error.details.get("reason"), "REQUEST_ACTIVE")
        self.assertIn(first["changeRequestId"], error.message)
        self.assert_error(FailedPrecondition, lambda: self.agent.raise_change_request(s, "SELF_SERVICE", "CLIENT_REQUEST", "Pat", actor=AGENT),
                          reason="REQUEST_ACTIVE")
        self.assertEqual([r["changeRequestId"] for r in self.agent.iter_change_requests(subject_id=s)], [first["changeRequestId"]])

    def test_a_form_needs_a_postal_address(self) -> None:
        s, _ = self.subject("noaddress", with_address=False, blocked=True)
        self.assert_error(FailedPrecondition, lambda: self.raise_by_phone(s), reason="NO_POSTAL_ADDRESS")
        self.assertEqual(self.agent.list_change_requests(subject_id=s)["changeRequests"], [])  # nothing was kept
        # A blocked person cannot go through the self-service site: their change needs the form.
        self.assert_error(FailedPrecondition,
                          lambda: self.agent.raise_change_request(s, "SELF_SERVICE", "BLOCKED_AFTER_FAILED_CHECKS", "Pat, on the portal", actor=AGENT),
                          reason="BLOCKED")
        # The address added, a phone report sends its form.
        address = address_for(s)
        self.agent.update_contacts(s, postal_addresses=[address], actor=AGENT)
        self.assertEqual(self.raise_by_phone(s)["status"], "WAITING")
        self.letter(address, "CMSL9800")

    def test_raise_refusals(self) -> None:
        active, _ = self.subject("active")
        self.assert_error(FailedPrecondition, lambda: self.raise_by_phone(active), reason="NOT_BLOCKED")
        fresh = sid("fresh")
        self.agent.enroll(fresh, postal_addresses=[address_for(fresh)])
        self.assert_error(FailedPrecondition, lambda: self.raise_by_phone(fresh, "CLIENT_REQUEST"), reason="NOT_SET_UP")
        self.assert_error(InvalidArgument, lambda: self.agent.raise_change_request(active, "FAX", "CLIENT_REQUEST", "Pat", actor=AGENT),
                          "source", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.raise_change_request(active, "PHONE", "CLIENT_REQUEST", "Pat"),
                          "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.notifier.raise_change_request(active, "PHONE", "CLIENT_REQUEST", "Pat", actor=AGENT))
        self.assert_error(NotFound, lambda: self.raise_by_phone(sid("ghost"), "CLIENT_REQUEST"), "subjectId")
        self.assertEqual(self.agent.list_change_requests(subject_id=active)["changeRequests"], [])

    def test_receive_the_form_then_accept_a_new_pin(self) -> None:
        s, address = self.subject("accept", blocked=True)
        raised = self.raise_by_phone(s)
        rid = raised["changeRequestId"]
        form = self.letter(address, "CMSL9800")
        self.notifier.ack(form.delivery_id, lease_token=form.lease_token)

        self.assert_error(NotFound, lambda: self.agent.receive_change_request_form(rid, sid("someone-else"), actor=AGENT), "changeRequestId")
        received = self.agent.receive_change_request_form(rid, s, actor=AGENT)
        self.assertEqual(received["status"], "IN_PROGRESS")
        self.assertRegex(received["formReceivedAt"], TIMESTAMP)
        self.assertEqual(parse_timestamp(received["dueAt"]) - parse_timestamp(received["formReceivedAt"]), timedelta(days=1))

        self.assert_error(InvalidArgument, lambda: self.agent.accept_change_request(rid, s, new_pin="0000000", actor=AGENT),
                          "newPin", "ALL_ZEROES")
        accepted = self.agent.accept_change_request(rid, s, new_pin=NEW_PIN, actor=AGENT)
        self.assertEqual(accepted["state"], "ACTIVE")
        request = accepted["changeRequest"]
        self.assertEqual((request["changeRequestId"], request["status"], request["confirmation"]), (rid, "ACCEPTED", "LETTER"))
        self.assertRegex(request["closedAt"], TIMESTAMP)
        self.assertNotIn("dueAt", request)
        self.assertEqual(self.agent.change_request(rid), request)

        status = self.agent.get_status(s)
        self.assertEqual((status.state, status.consecutive_failures, status.blocked_at), ("ACTIVE", 0, None))
        self.assertEqual(self.verifier.verify(s, pin=NEW_PIN), Verification("VERIFIED", 3))
        self.assertEqual(self.verifier.verify(s, pin=PIN), Verification("MISMATCH", 2))  # the old PIN is gone

        confirmation = self.letter(address, "CMSL9802")
        self.assertEqual(confirmation.variables, {"changeRequestId": rid, "subjectId": s})
        self.notifier.ack(confirmation.delivery_id, lease_token=confirmation.lease_token)
        self.assert_error(FailedPrecondition, lambda: self.agent.accept_change_request(rid, s, new_pin=WRONG_PIN, actor=AGENT),
                          reason="REQUEST_CLOSED")

        # One transaction, one event per act.
        events = self.admin.list_audit(subject_id=s).events
        acts = [(e.action, e.outcome) for e in events if e.action != "VERIFY"]
        self.assertEqual(acts[-4:], [("UNBLOCK", "OK"), ("SET_SECURITY_DETAILS", "OK"), ("ACCEPT_CHANGE_REQUEST", "ACCEPTED"),
                                     ("REFUSED", "FAILED_PRECONDITION")])

    def test_accept_while_waiting_is_refused(self) -> None:
        s, _ = self.subject("early", blocked=True)
        rid = self.raise_by_phone(s)["changeRequestId"]
        self.assert_error(FailedPrecondition, lambda: self.agent.accept_change_request(rid, s, new_pin=NEW_PIN, actor=AGENT),
                          reason="FORM_NOT_RECEIVED")
        self.assertEqual(self.agent.change_request(rid)["status"], "WAITING")
        self.assertTrue(self.agent.get_status(s).blocked)
        self.assertEqual(self.verifier.verify(s, pin=NEW_PIN).result, "BLOCKED")

    def test_decline_with_a_reason_and_close(self) -> None:
        s, _ = self.subject("decline", blocked=True)
        rid = self.raise_by_phone(s)["changeRequestId"]
        self.assert_error(InvalidArgument, lambda: self.agent.decline_change_request(rid, s, "  ", actor=AGENT), "reason", "REQUIRED")
        declined = self.agent.decline_change_request(rid, s, "the signature does not match the one on file", actor=AGENT)
        self.assertEqual((declined["status"], declined["resolutionReason"]),
                         ("DECLINED", "the signature does not match the one on file"))
        self.assertRegex(declined["closedAt"], TIMESTAMP)
        self.assertNotIn("dueAt", declined)
        self.assertFalse(declined["overdue"])
        self.assertTrue(self.agent.get_status(s).blocked)  # declining changes nothing of the subject
        for call in (lambda: self.agent.decline_change_request(rid, s, "again", actor=AGENT),
                     lambda: self.agent.receive_change_request_form(rid, s, actor=AGENT),
                     lambda: self.agent.close_change_request(rid, s, "again", actor=AGENT)):
            self.assert_error(FailedPrecondition, call, reason="REQUEST_CLOSED")

        # Ended, it no longer stands in the way of a new one.
        again = self.raise_by_phone(s)
        self.assertNotEqual(again["changeRequestId"], rid)
        closed = self.agent.close_change_request(again["changeRequestId"], s, "raised in error", actor=AGENT)
        self.assertEqual((closed["status"], closed["resolutionReason"]), ("CLOSED", "raised in error"))
        event = self.admin.list_audit(subject_id=s).events[-1]
        self.assertEqual((event.action, event.outcome, event.facts[-1]), ("CLOSE_CHANGE_REQUEST", "CLOSED", "reason: raised in error"))

    def test_listing_follows_the_page_tokens(self) -> None:
        s, _ = self.subject("list")
        raised = []
        for source in ("PHONE", "LETTER", "SELF_SERVICE"):
            request = self.agent.raise_change_request(s, source, "CLIENT_REQUEST", "Pat Quillfeather, the client", actor=AGENT)
            raised.append(request["changeRequestId"])
            if source != "SELF_SERVICE":
                self.agent.close_change_request(request["changeRequestId"], s, "superseded", actor=AGENT)

        seen: List[str] = []
        pages = 0
        token: Optional[str] = None
        while True:
            page = self.agent.list_change_requests(subject_id=s, page_size=1, page_token=token)
            pages += 1
            self.assertEqual(len(page["changeRequests"]), 1)
            seen += [r["changeRequestId"] for r in page["changeRequests"]]
            token = page.get("nextPageToken")
            if token is None:
                break
            self.assertLess(pages, 10, "the pages never end")
        self.assertEqual(pages, 3)
        self.assertCountEqual(seen, raised)  # every request, each once
        self.assertEqual([r["changeRequestId"] for r in self.agent.iter_change_requests(subject_id=s, page_size=1)], seen)

        closed = [r["changeRequestId"] for r in self.agent.iter_change_requests(subject_id=s, statuses="CLOSED")]
        self.assertCountEqual(closed, raised[:2])
        active = self.agent.list_change_requests(subject_id=s, statuses=["OPEN", "WAITING", "IN_PROGRESS"])
        self.assertEqual([r["changeRequestId"] for r in active["changeRequests"]], [raised[2]])
        self.assertNotIn("nextPageToken", active)
        self.assertEqual(self.agent.list_change_requests(subject_id=s, overdue=True)["changeRequests"], [])
        due = self.agent.list_change_requests(subject_id=s, due_before=datetime.now(timezone.utc) + timedelta(days=2))
        self.assertEqual([r["changeRequestId"] for r in due["changeRequests"]], [raised[2]])  # the open one, due in a day

        # Across every subject too, each request once.
        everything = [r["changeRequestId"] for r in self.agent.iter_change_requests(page_size=7)]
        self.assertEqual(len(everything), len(set(everything)))
        self.assertTrue(set(raised) <= set(everything))

        self.assert_error(InvalidArgument, lambda: self.agent.list_change_requests(page_size=0), "pageSize", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.agent.list_change_requests(page_token="not a token"), "pageToken", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.list_change_requests(statuses=["LOST"]), "statuses[0]", "INVALID_VALUE")
        self.assert_error(PermissionDenied, lambda: self.verifier.list_change_requests())

    def test_a_production_server_has_no_movable_clock(self) -> None:
        self.assert_error(Unimplemented, lambda: self.admin.advance_clock(60, actor=ADMIN))


class DevelopmentClockTests(_Procedure, harness.DevClockTestCase):
    """The timed steps, on a development server started with ``--dev-clock``."""

    def test_reminder_after_a_week_then_declined_after_another(self) -> None:
        s, address = self.subject("clock")
        raised = self.agent.raise_change_request(s, "LETTER", "CLIENT_REQUEST", "Pat Quillfeather, the client", actor=AGENT)
        rid = raised["changeRequestId"]
        form = self.letter(address, "CMSL9800")
        self.notifier.ack(form.delivery_id, lease_token=form.lease_token)

        moved = self.advance(8 * DAY_SECONDS)
        self.assertGreaterEqual(moved["stepsTaken"], 1)
        self.assertGreaterEqual(parse_timestamp(moved["now"]) - parse_timestamp(raised["createdAt"]), timedelta(days=8))
        reminded = self.agent.change_request(rid)
        self.assertEqual(reminded["status"], "WAITING")
        self.assertRegex(reminded["reminderSentAt"], TIMESTAMP)
        self.assert_waits_a_week_from(reminded, reminded["reminderSentAt"])  # a whole week from the reminder
        reminder = self.letter(address, "CMSL9801")
        self.assertEqual(reminder.channel, "LETTER")
        self.assertEqual(reminder.variables, {"changeRequestId": rid, "subjectId": s, "respondBy": reminded["dueAt"]})
        self.notifier.ack(reminder.delivery_id, lease_token=reminder.lease_token)
        self.assertEqual(self.advance(1)["stepsTaken"], 0)  # a step is taken once

        moved = self.advance(7 * DAY_SECONDS)
        self.assertGreaterEqual(moved["stepsTaken"], 1)
        declined = self.agent.change_request(rid)
        self.assertEqual((declined["status"], declined["resolutionReason"]), ("DECLINED", NO_RESPONSE))
        self.assertRegex(declined["closedAt"], TIMESTAMP)
        self.assertNotIn("dueAt", declined)
        self.assertEqual(self.agent.get_status(s).state, "ACTIVE")

        events = self.admin.list_audit(subject_id=s).events
        self.assertEqual([(e.action, e.outcome, e.caller, e.role) for e in events[-2:]], [
            ("REMIND_CHANGE_REQUEST", "WAITING", "verityd scheduler", "system"),
            ("DECLINE_CHANGE_REQUEST", "DECLINED", "verityd scheduler", "system"),
        ])
        self.assertIn(f"reason: {NO_RESPONSE}", events[-1].facts)

    def test_advance_clock_needs_an_admin_an_actor_and_a_range(self) -> None:
        self.assert_error(PermissionDenied, lambda: self.agent.advance_clock(60, actor=AGENT))
        self.assert_error(InvalidArgument, lambda: self.admin.advance_clock(60), "metadata.actor", "REQUIRED")
        self.assert_error(InvalidArgument, lambda: self.admin.advance_clock(0, actor=ADMIN), "seconds", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.admin.advance_clock(365 * DAY_SECONDS + 1, actor=ADMIN), "seconds", "OUT_OF_RANGE")


if __name__ == "__main__":
    unittest.main()
