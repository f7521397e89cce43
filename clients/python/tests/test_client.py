"""The client against a real verityd (and, for connection failures, against a scripted TLS peer)."""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
import unittest
import uuid
from datetime import datetime, timezone
from typing import Callable, Dict, List, Optional
from unittest import mock

import harness
from harness import ADMIN, AGENT, HEX32, HEX64, TIMESTAMP, RecordingClient, answer
from support import VerityServer, wait_until

import verity_client
import verity_client.client as client_module
from verity_client import (
    Aborted,
    AlreadyExists,
    AuditChainReport,
    AuditCheckpoint,
    AuditEvent,
    Channel,
    Client,
    CodeChannel,
    CodePurpose,
    CodeVerification,
    ConnectionLost,
    DeadlineExceeded,
    Delivery,
    DeliveryOutcome,
    EnrollResult,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    PermissionDenied,
    Phone,
    PhoneType,
    ProtocolViolation,
    ResourceExhausted,
    Unavailable,
    Unimplemented,
    Verification,
    VerificationResult,
    VerityError,
    error_class_for_code,
    error_from_status,
    parse_timestamp,
)

JOIN_TIMEOUT = 30.0


def sid(label: str) -> str:
    """A subject id no other test uses."""
    return harness.unique_id("py", label)


def error_text(error: BaseException) -> str:
    """Everything a log line could show of an exception."""
    parts = [str(error), repr(error), str(error.args)]
    if isinstance(error, VerityError):
        parts += [error.message, json.dumps(error.details), str(error.field), str(error.reason)]
    return "\n".join(parts)


#: Production mode with the development PKI: no console sink, so tests lease the codes. Without
#: VERITYD only the tests that need no server run.
live = harness.ModuleServer(production=True)
setUpModule, tearDownModule = live.start, live.stop


# =============================================================================================
# Errors without a server


class ErrorClassTests(unittest.TestCase):
    def test_one_class_per_code(self) -> None:
        expected = {
            1: "Cancelled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded", 5: "NotFound",
            6: "AlreadyExists", 7: "PermissionDenied", 8: "ResourceExhausted", 9: "FailedPrecondition",
            10: "Aborted", 11: "OutOfRange", 12: "Unimplemented", 13: "Internal", 14: "Unavailable",
            15: "DataLoss", 16: "Unauthenticated",
        }
        for code, class_name in expected.items():
            cls = error_class_for_code(code)
            self.assertIs(cls, getattr(verity_client, class_name))
            self.assertTrue(issubclass(cls, VerityError))
            self.assertEqual(cls.code, code)
            self.assertEqual(cls.name, verity_client.STATUS_NAMES[code])
            error = error_from_status({"code": code, "name": cls.name, "message": "m", "details": {"field": "f", "reason": "R"}})
            self.assertIs(type(error), cls)
            self.assertEqual((error.code, error.name, error.message, error.field, error.reason), (code, cls.name, "m", "f", "R"))
        self.assertEqual(len({error_class_for_code(c) for c in range(1, 17)}), 16)

    def test_unknown_code_keeps_number_and_name(self) -> None:
        error = error_from_status({"code": 42, "name": "FUTURE"})
        self.assertIsInstance(error, verity_client.Unknown)
        self.assertEqual((error.code, error.name), (42, "FUTURE"))

    def test_text_and_details(self) -> None:
        error = error_from_status({"code": 3, "name": "INVALID_ARGUMENT", "message": "bad", "details": {"field": "pin", "reason": "LENGTH"}})
        self.assertEqual(str(error), "INVALID_ARGUMENT (3): bad field=pin, reason=LENGTH")
        self.assertIsNone(error_from_status({"code": 5, "name": "NOT_FOUND"}).field)
        limited = error_from_status({"code": 8, "name": "RESOURCE_EXHAUSTED", "details": {"reason": "RATE_LIMITED", "retryAfter": "2026-11-22T17:04:29.123Z"}})
        self.assertEqual(limited.retry_after, "2026-11-22T17:04:29.123Z")

    def test_connection_errors(self) -> None:
        lost = ConnectionLost("gone")
        self.assertIsInstance(lost, Unavailable)
        self.assertEqual((lost.code, lost.name), (14, "UNAVAILABLE"))
        violation = ProtocolViolation({"code": 8, "name": "RESOURCE_EXHAUSTED", "details": {"reason": "FRAME_TOO_LARGE", "maxFrameBytes": 65536}})
        self.assertIsInstance(violation, VerityError)
        self.assertEqual((violation.code, violation.reason, violation.details["maxFrameBytes"]), (8, "FRAME_TOO_LARGE", 65536))

    def test_parse_timestamp(self) -> None:
        self.assertEqual(parse_timestamp("2026-11-22T16:04:29.123Z"), datetime(2026, 11, 22, 16, 4, 29, 123000, tzinfo=timezone.utc))

    def test_revision_2_reasons(self) -> None:
        cases = [
            ({"code": 10, "name": "ABORTED", "details": {"reason": "CHECKS_IN_PROGRESS"}}, Aborted, None, "CHECKS_IN_PROGRESS"),
            ({"code": 10, "name": "ABORTED", "details": {"reason": "RESERVATION_LOST"}}, Aborted, None, "RESERVATION_LOST"),
            ({"code": 13, "name": "INTERNAL", "details": {"reason": "CREDENTIAL_INTEGRITY"}}, Internal, None, "CREDENTIAL_INTEGRITY"),
            ({"code": 13, "name": "INTERNAL", "details": {"reason": "STORE_ERROR"}}, Internal, None, "STORE_ERROR"),
            ({"code": 14, "name": "UNAVAILABLE", "details": {"reason": "STORE_BUSY"}}, Unavailable, None, "STORE_BUSY"),
            ({"code": 14, "name": "UNAVAILABLE", "details": {"reason": "STORE_UNAVAILABLE"}}, Unavailable, None, "STORE_UNAVAILABLE"),
            ({"code": 9, "name": "FAILED_PRECONDITION", "details": {"reason": "LEASE_LOST"}}, FailedPrecondition, None, "LEASE_LOST"),
            ({"code": 9, "name": "FAILED_PRECONDITION", "details": {"reason": "REPRESENTATIVE"}}, FailedPrecondition, None, "REPRESENTATIVE"),
            ({"code": 3, "name": "INVALID_ARGUMENT", "details": {"field": "code", "reason": "EMPTY"}}, InvalidArgument, "code", "EMPTY"),
            ({"code": 3, "name": "INVALID_ARGUMENT", "details": {"field": "metadata.actor", "reason": "REQUIRED"}},
             InvalidArgument, "metadata.actor", "REQUIRED"),
        ]
        for status, cls, field, reason in cases:
            error = error_from_status(status)
            self.assertIs(type(error), cls)  # a store that is busy is no lost connection
            self.assertEqual((error.field, error.reason), (field, reason))


# =============================================================================================
# Request messages and results without a server


class RequestMessageTests(unittest.TestCase):
    def test_verify_code_names_the_subject_and_the_purpose(self) -> None:
        client = RecordingClient(answer({"result": "VERIFIED", "attemptsRemaining": 0, "subjectId": "case-1", "purpose": "STEP_UP"}))
        result = client.verify_code("c0ffee", "482915", subject_id="case-1", purpose=CodePurpose.STEP_UP)
        self.assertEqual(client.sent[0]["method"], "verity.v1.Mfa/VerifyCode")
        self.assertEqual(client.sent[0]["message"],
                         {"challengeId": "c0ffee", "code": "482915", "subjectId": "case-1", "purpose": "STEP_UP"})
        self.assertEqual(result, CodeVerification("VERIFIED", 0, "case-1", "STEP_UP"))
        self.assertTrue(result.verified)
        self.assertEqual(CodeVerification.from_json({"result": "MISMATCH", "attemptsRemaining": 2}),
                         CodeVerification("MISMATCH", 2, "", ""))
        with self.assertRaises(TypeError):  # subject_id and purpose are required
            client.verify_code("c0ffee", "482915")  # type: ignore[call-arg]

    def test_lease_tokens_go_back_with_the_ack(self) -> None:
        token = "0123456789abcdef" * 2
        client = RecordingClient(answer({"deliveries": [{
            "deliveryId": "d1", "leaseToken": token, "channel": "EMAIL", "destination": "pat@example.org",
            "template": "CODE_STEP_UP", "variables": {"code": "482915", "purpose": "STEP_UP"},
        }]}))
        (delivery,) = client.lease(max=5, lease_seconds=30)
        self.assertIsInstance(delivery, Delivery)
        self.assertEqual((delivery.delivery_id, delivery.lease_token, delivery.template), ("d1", token, "CODE_STEP_UP"))
        self.assertNotIn("482915", repr(delivery))
        client.ack(delivery.delivery_id, lease_token=delivery.lease_token)
        client.ack(delivery.delivery_id, DeliveryOutcome.FAILED, lease_token=delivery.lease_token)
        self.assertEqual(client.sent[1]["message"], {"deliveryId": "d1", "leaseToken": token, "outcome": "SENT"})
        self.assertEqual(client.sent[2]["message"], {"deliveryId": "d1", "leaseToken": token, "outcome": "FAILED"})
        with self.assertRaises(TypeError):  # the lease token is required
            client.ack("d1")  # type: ignore[call-arg]

    def test_actor_through_actor_or_metadata(self) -> None:
        calls = {
            "verity.v1.Credentials/SetSecurityDetails": lambda c, **kw: c.set_security_details("case-1", pin="4829157", **kw),
            "verity.v1.Credentials/ApplyDefaults": lambda c, **kw: c.apply_defaults("case-1", **kw),
            "verity.v1.Ivr/GeneratePin": lambda c, **kw: c.generate_pin("case-1", **kw),
            "verity.v1.Admin/Unblock": lambda c, **kw: c.unblock("case-1", "identity confirmed by phone", **kw),
        }
        for method, call in calls.items():
            with self.subTest(method=method):
                client = RecordingClient()
                call(client, metadata={"actor": AGENT})
                call(client, actor=AGENT)
                call(client, actor=AGENT, metadata={"actor": "someone else", "requestId": "r-1"}, request_id="r-2")
                call(client)
                self.assertEqual([envelope["method"] for envelope in client.sent], [method] * 4)
                self.assertEqual(client.sent[0]["metadata"], {"actor": AGENT})
                self.assertEqual(client.sent[1]["metadata"], {"actor": AGENT})
                self.assertEqual(client.sent[2]["metadata"], {"actor": AGENT, "requestId": "r-2"})
                self.assertNotIn("metadata", client.sent[3])  # the server answers metadata.actor REQUIRED

    def test_statuses_become_their_exceptions(self) -> None:
        client = RecordingClient(
            answer(status={"code": 10, "name": "ABORTED", "message": "other checks are in progress",
                           "details": {"reason": "CHECKS_IN_PROGRESS"}}),
            answer(status={"code": 9, "name": "FAILED_PRECONDITION", "details": {"reason": "LEASE_LOST"}}),
            answer(status={"code": 3, "name": "INVALID_ARGUMENT", "details": {"field": "pin", "reason": "EMPTY"}}),
        )
        with self.assertRaises(Aborted) as aborted:
            client.verify("case-1", pin="4829157")
        self.assertEqual(aborted.exception.reason, "CHECKS_IN_PROGRESS")
        with self.assertRaises(FailedPrecondition) as lost:
            client.ack("d1", lease_token="0" * 32)
        self.assertEqual(lost.exception.reason, "LEASE_LOST")
        with self.assertRaises(InvalidArgument) as empty:
            client.verify_pin("case-1", "")
        self.assertEqual((empty.exception.field, empty.exception.reason), ("pin", "EMPTY"))
        self.assertEqual(client.sent[2]["message"], {"subjectId": "case-1", "pin": ""})  # sent as given


HEAD = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
OTHER = "60303ae22b998861bce3b28f33eec1be758a213c86c93c076dbe9f558c11c752"


def _report(ok: bool = True, head_seq: int = 42, head_hash: str = HEAD) -> dict:
    message = {"ok": ok, "checked": head_seq, "headSeq": head_seq, "headHash": head_hash}
    if ok:
        message["checkpoint"] = {"seq": head_seq, "hash": head_hash, "time": "2026-11-22T16:04:29.456Z",
                                 "keyId": "dev-1", "mac": "6c" * 32}
    else:
        message["firstBadSeq"] = head_seq + 1
    return answer(message)


def _event(seq: int, hash: str) -> dict:
    return {"seq": seq, "time": "2026-11-22T16:04:29.123Z", "caller": "dev-agent", "role": "agent",
            "method": "verity.v1.Subjects/Enroll", "action": "ENROLL", "outcome": "OK", "facts": ["kind: CLIENT"],
            "keyId": "dev-1", "hash": hash}


class AuditTypeTests(unittest.TestCase):
    def test_events_carry_their_key_id(self) -> None:
        keyed = AuditEvent.from_json(_event(7, HEAD))
        self.assertEqual((keyed.seq, keyed.key_id, keyed.hash, keyed.facts), (7, "dev-1", HEAD, ("kind: CLIENT",)))
        legacy = {key: value for key, value in _event(1, HEAD).items() if key != "keyId"}
        self.assertIsNone(AuditEvent.from_json(legacy).key_id)  # written before revision 2
        future = AuditEvent.from_json(dict(_event(8, HEAD), action="SOMETHING_NEW", outcome="LOST", facts=["not evaluated: PIN"]))
        self.assertEqual((future.action, future.outcome, future.facts), ("SOMETHING_NEW", "LOST", ("not evaluated: PIN",)))

    def test_a_sound_chain_comes_with_a_checkpoint(self) -> None:
        report = AuditChainReport.from_json(_report()["message"])
        self.assertTrue(report.ok)
        self.assertEqual(report.checkpoint, AuditCheckpoint(42, HEAD, "2026-11-22T16:04:29.456Z", "dev-1", "6c" * 32))
        self.assertEqual(report.checkpoint.head, f"42:{HEAD}")
        broken = AuditChainReport.from_json(_report(ok=False)["message"])
        self.assertEqual((broken.ok, broken.first_bad_seq, broken.checkpoint), (False, 43, None))
        self.assertIsNone(AuditChainReport.from_json({"ok": True, "checked": 0, "headSeq": 0, "headHash": "0" * 64,
                                                      "checkpoint": "not an object"}).checkpoint)


class VerifyAuditHeadTests(unittest.TestCase):
    """Client.verify_audit_head does what verityctl audit verify --expect-head SEQ:HASH does."""

    def test_the_trail_still_holds_the_checkpoint(self) -> None:
        client = RecordingClient(_report(head_seq=50), answer({"events": [_event(42, HEAD)], "nextAfterSeq": 42}))
        self.assertTrue(client.verify_audit_head(42, HEAD.upper(), timeout_ms=3000, actor=ADMIN))
        self.assertEqual([envelope["method"] for envelope in client.sent],
                         ["verity.v1.Admin/VerifyAuditChain", "verity.v1.Admin/ListAudit"])
        self.assertEqual(client.sent[1]["message"], {"afterSeq": 41, "limit": 1})
        self.assertEqual((client.sent[1]["timeoutMs"], client.sent[1]["metadata"]), (3000, {"actor": ADMIN}))

    def test_a_broken_chain_fails(self) -> None:
        client = RecordingClient(_report(ok=False, head_seq=50))
        self.assertFalse(client.verify_audit_head(42, HEAD))
        self.assertEqual(len(client.sent), 1)

    def test_a_trail_cut_back_fails(self) -> None:
        client = RecordingClient(_report(head_seq=41, head_hash=OTHER))
        self.assertFalse(client.verify_audit_head(42, HEAD))
        self.assertEqual(len(client.sent), 1)

    def test_a_rewritten_trail_fails(self) -> None:
        for events in ([_event(42, OTHER)], [_event(43, HEAD)], []):
            with self.subTest(events=events):
                client = RecordingClient(_report(head_seq=50), answer({"events": events}))
                self.assertFalse(client.verify_audit_head(42, HEAD))

    def test_a_malformed_checkpoint_is_refused_before_any_call(self) -> None:
        client = RecordingClient()
        for seq, head_hash in ((0, HEAD), (-1, HEAD), (True, HEAD), ("42", HEAD), (42, HEAD[:63]), (42, HEAD + "0"),
                               (42, "g" * 64), (42, None)):
            with self.subTest(seq=seq, hash=head_hash):
                with self.assertRaises(ValueError):
                    client.verify_audit_head(seq, head_hash)  # type: ignore[arg-type]
        self.assertEqual(client.sent, [])


# =============================================================================================
# Every method against the server


class LiveServerTests(harness.LiveTestCase):
    shared = live

    # -- the methods -------------------------------------------------------------------------

    def test_health_check_for_every_role(self) -> None:
        for role, client in self.clients.items():
            self.assertEqual(client.health_check(), "SERVING", role)

    def test_enroll_get_status_and_update_contacts(self) -> None:
        s = sid("enroll")
        result = self.agent.enroll(
            s, emails=["pat@example.org"], phones=[("602 555 0100", "CELL"), {"number": "602-555-0199", "type": "FAX"}],
            actor="agent:4711",
        )
        self.assertEqual(result, EnrollResult(subject_id=s, state="NOT_SET_UP"))
        rep = self.agent.enroll(s + "/rep", kind=verity_client.SubjectKind.REPRESENTATIVE, represents_subject_id=s)
        self.assertEqual(rep.state, "NOT_SET_UP")

        status = self.verifier.get_status(s + "/rep")
        self.assertEqual((status.subject_id, status.kind, status.state), (s + "/rep", "REPRESENTATIVE", "NOT_SET_UP"))
        self.assertEqual(status.represents_subject_id, s)
        self.assertEqual((status.consecutive_failures, status.has_pin, status.has_password), (0, False, False))
        self.assertRegex(status.updated_at, TIMESTAMP)
        self.assertIsNone(status.blocked_at)
        self.assertIsNone(status.ivr_pin_updated_at)
        self.assertIsNone(self.ivr.get_status(s).represents_subject_id)

        self.assertIsNone(self.agent.update_contacts(s, emails=["new@example.org"], phones=[Phone("602 555 0101", PhoneType.HOME)]))
        issued = self.agent.issue_code(s, CodeChannel.EMAIL, CodePurpose.STEP_UP)
        self.assertEqual(issued.masked_destination, "n***@example.org")

        self.agent.update_contacts(s)  # removes every contact
        with self.assertRaises(FailedPrecondition) as caught:
            self.agent.issue_code(s, "SMS", "STEP_UP")
        self.assertEqual(caught.exception.reason, "NO_ELIGIBLE_CONTACT")

    def test_set_verify_change_and_defaults(self) -> None:
        s = sid("creds")
        self.agent.enroll(s)
        self.assertEqual(self.agent.set_security_details(s, pin="4829157", password="Blue kettle 1987", actor=AGENT), "ACTIVE")
        status = self.agent.get_status(s)
        self.assertEqual((status.state, status.has_pin, status.has_password), ("ACTIVE", True, True))

        verified = self.verifier.verify(s, pin="4829157")
        self.assertEqual(verified, Verification(result="VERIFIED", attempts_remaining=3))
        self.assertTrue(verified.verified)
        self.assertEqual(verified.result, VerificationResult.VERIFIED)
        # PHONE (the default) compares a password as spoken; PORTAL exactly.
        self.assertEqual(self.verifier.verify(s, password="blue kettle 1987").result, "VERIFIED")
        self.assertEqual(self.verifier.verify(s, password="blue kettle 1987", channel=Channel.PORTAL),
                         Verification("MISMATCH", 2))

        # Change proves every factor the subject has: a missing one is REQUIRED and costs nothing.
        for missing, given in (("currentPassword", dict(current_pin="4829157")),
                               ("currentPin", dict(current_password="Blue kettle 1987"))):
            with self.assertRaises(InvalidArgument) as caught:
                self.verifier.change(s, new_pin="5937261", **given)
            self.assertEqual((caught.exception.field, caught.exception.reason), (missing, "REQUIRED"))
        self.assertEqual(self.agent.get_status(s).consecutive_failures, 1)  # the PORTAL mismatch above

        self.assertEqual(self.verifier.change(s, current_pin="4829157", current_password="Blue kettle 1987", new_pin="5937261"),
                         Verification("VERIFIED", 3))
        self.assertEqual(
            self.verifier.change(s, current_pin="5937261", current_password="BLUE KETTLE 1987",
                                 new_password="Green teapot 2024", channel="PHONE"),
            Verification("VERIFIED", 3),
        )
        self.assertEqual(
            self.verifier.change(s, current_pin="4829157", current_password="Green teapot 2024", new_pin="6048213").result,
            "MISMATCH",
        )
        self.assertEqual(
            self.verifier.verify(s, pin="5937261", password="Green teapot 2024", channel="PORTAL"), Verification("VERIFIED", 3)
        )

        self.assertEqual(self.agent.apply_defaults(s, actor=AGENT), "DEFAULTS_APPLIED")
        self.assertEqual(self.verifier.verify(s, pin="5937261"), Verification("NOT_SET_UP", 0))

    def test_fallback_facts_recover_a_forgotten_password(self) -> None:
        s = sid("facts")
        self.agent.enroll(s)
        self.agent.set_security_details(s, pin="4829157", password="Quiet Orchard 2291", actor=AGENT)
        birthplace = {"city": "St. Louis", "state": "Missouri"}
        children = [{"fullName": "Mary Ann Quillfeather", "dateOfBirth": "2015-03-05"}]
        self.assertEqual(self.agent.set_facts(s, place_of_birth=birthplace, children=children, actor=AGENT),
                         ("PLACE_OF_BIRTH", "CHILDREN"))
        with self.assertRaises(InvalidArgument) as caught:
            self.agent.check_facts(s, place_of_birth=birthplace, actor=AGENT)
        self.assertEqual((caught.exception.field, caught.exception.reason), ("children", "REQUIRED"))
        wrong = self.agent.check_facts(s, place_of_birth=birthplace,
                                       children=[{"fullName": "Mary Ann Quillfeather", "dateOfBirth": "2015-05-03"}], actor=AGENT)
        self.assertEqual((wrong.result, wrong.attempts_remaining, wrong.checked, wrong.matched),
                         ("MISMATCH", 2, ("PLACE_OF_BIRTH", "CHILDREN"), ()))
        said_otherwise = self.agent.check_facts(
            s, place_of_birth={"city": "st louis", "state": "MISSOURI"},
            children=[{"fullName": "Quillfeather, Ann Mary", "dateOfBirth": "03/05/2015"}], actor=AGENT)
        self.assertTrue(said_otherwise.verified)
        self.assertEqual(self.agent.remove_password(s, "the client asked", actor=AGENT), "ACTIVE")
        self.assertFalse(self.agent.get_status(s).has_password)
        self.assertEqual(self.agent.remove_facts(s, "CHILDREN", "asked", actor=AGENT), ("PLACE_OF_BIRTH",))

    def test_a_recovery_request_is_confirmed_once(self) -> None:
        s = sid("recovery")
        self.agent.enroll(s)
        opened = self.agent.open_recovery_request(s, actor=AGENT)
        self.assertEqual(opened["status"], "AWAITING_DOCUMENT")
        rid = opened["recoveryRequestId"]
        self.assertEqual(self.agent.open_recovery_request(s, actor=AGENT)["recoveryRequestId"], rid)
        with self.assertRaises(NotFound):
            self.agent.confirm_recovery_document(rid, sid("someone-else"), "wrong case", actor=AGENT)
        confirmed = self.agent.confirm_recovery_document(rid, s, "licence copy matches", actor=AGENT)
        self.assertEqual(confirmed["status"], "DOCUMENT_CONFIRMED")
        self.assertRegex(confirmed["closedAt"], TIMESTAMP)
        self.assertEqual(self.agent.recovery_request(rid, actor=AGENT)["status"], "DOCUMENT_CONFIRMED")
        with self.assertRaises(FailedPrecondition) as caught:
            self.agent.confirm_recovery_document(rid, s, "again", actor=AGENT)
        self.assertEqual(caught.exception.reason, "REQUEST_CLOSED")

    def test_ivr_pin_lock_and_unblock(self) -> None:
        s = sid("ivr")
        self.agent.enroll(s)
        self.agent.set_security_details(s, pin="4829157", actor=AGENT)
        generated = self.agent.generate_pin(s, actor=AGENT)
        self.assertRegex(generated.pin, r"^\d{6}$")
        self.assertRegex(generated.updated_at, TIMESTAMP)
        self.assertNotIn(generated.pin, repr(generated))
        self.assertEqual(self.ivr.verify_pin(s, generated.pin), Verification("VERIFIED", 3))

        wrong = "000000" if generated.pin != "000000" else "111111"
        for remaining in (2, 1, 0):
            self.assertEqual(self.ivr.verify_pin(s, wrong), Verification("MISMATCH", remaining))
        self.assertEqual(self.ivr.verify_pin(s, generated.pin), Verification("BLOCKED", 0))
        status = self.ivr.get_status(s)
        self.assertTrue(status.blocked)
        self.assertEqual(status.consecutive_failures, 3)
        self.assertRegex(status.blocked_at or "", TIMESTAMP)
        self.assertTrue(status.block_reason)
        self.assertEqual(status.ivr_pin_updated_at, generated.updated_at)
        self.assertEqual(status.block_reason, "3 consecutive failed security checks")

        with self.assertRaises(FailedPrecondition) as caught:
            self.agent.generate_pin(s, actor=AGENT)
        self.assertEqual(caught.exception.reason, "BLOCKED")
        self.assertEqual(self.admin.unblock(s, "identity confirmed by phone", actor=ADMIN), "ACTIVE")
        with self.assertRaises(FailedPrecondition) as caught:
            self.admin.unblock(s, "again", metadata={"actor": ADMIN})
        self.assertEqual(caught.exception.reason, "NOT_BLOCKED")
        self.assertEqual(self.ivr.verify_pin(s, generated.pin), Verification("VERIFIED", 3))

        # The trail, in the words of proto-spec/errors.md: each check, the lock, the check not
        # evaluated, the refusals.
        events = self.admin.list_audit(subject_id=s).events
        self.assertEqual([(e.action, e.outcome) for e in events[:3]],
                         [("ENROLL", "OK"), ("SET_SECURITY_DETAILS", "OK"), ("GENERATE_IVR_PIN", "OK")])
        checked, not_evaluated = ("checked: IVR PIN",), ("not evaluated: IVR PIN",)
        self.assertEqual([(e.action, e.outcome, e.facts) for e in events[3:]], [
            ("VERIFY_IVR_PIN", "VERIFIED", checked),
            ("VERIFY_IVR_PIN", "MISMATCH", checked),
            ("VERIFY_IVR_PIN", "MISMATCH", checked),
            ("VERIFY_IVR_PIN", "MISMATCH", checked),
            ("LOCK", "BLOCKED", ("reason: 3 consecutive failed security checks",)),
            ("VERIFY_IVR_PIN", "BLOCKED", not_evaluated),
            ("REFUSED", "FAILED_PRECONDITION", ("reason: BLOCKED",)),
            ("UNBLOCK", "OK", ("reason: identity confirmed by phone",)),
            ("REFUSED", "FAILED_PRECONDITION", ("reason: NOT_BLOCKED",)),
            ("VERIFY_IVR_PIN", "VERIFIED", checked),
        ])
        self.assertTrue(all(e.key_id for e in events))
        self.assertEqual({e.method for e in events if e.action == "LOCK"}, {"verity.v1.Ivr/VerifyPin"})

    def test_codes_issue_lease_verify_ack(self) -> None:
        s = sid("codes")
        email = f"{s.replace('/', '.')}@example.org"
        phone = "602 555 %04d" % (uuid.uuid4().int % 10000)
        self.agent.enroll(s, emails=[email], phones=[(phone, "CELL")])

        issued = self.verifier.issue_code(s, "EMAIL", "PASSWORD_RESET")
        self.assertTrue(issued.challenge_id)
        self.assertNotEqual(issued.masked_destination, email)
        self.assertRegex(issued.expires_at, TIMESTAMP)
        self.assertGreater(parse_timestamp(issued.expires_at), datetime.now(timezone.utc))

        delivery = self.delivery(email)
        self.assertEqual((delivery.channel, delivery.template), ("EMAIL", "CODE_PASSWORD_RESET"))
        self.assertEqual(delivery.variables["purpose"], "PASSWORD_RESET")
        self.assertEqual(delivery.variables["expiresAt"], issued.expires_at)
        code = delivery.variables["code"]
        self.assertRegex(code, r"^\d{6}$")
        self.assertNotIn(code, repr(delivery))

        self.assertRegex(delivery.lease_token, HEX32)

        # The challenge belongs to its subject and purpose: any other is answered as unknown,
        # and uses no try.
        other = sid("other")
        self.agent.enroll(other)
        for subject_id, purpose in ((other, "PASSWORD_RESET"), (s, "STEP_UP"), (sid("ghost"), "PASSWORD_RESET")):
            with self.assertRaises(NotFound) as caught:
                self.verifier.verify_code(issued.challenge_id, code, subject_id=subject_id, purpose=purpose)
            self.assertEqual(caught.exception.field, "challengeId")
        with self.assertRaises(NotFound) as unknown:
            self.verifier.verify_code("0123456789abcdef0123456789abcdef", code, subject_id=s, purpose="PASSWORD_RESET")
        self.assertEqual((caught.exception.message, caught.exception.details), (unknown.exception.message, unknown.exception.details))

        wrong = "000000" if code != "000000" else "111111"
        self.assertEqual(self.verifier.verify_code(issued.challenge_id, wrong, subject_id=s, purpose="PASSWORD_RESET"),
                         CodeVerification("MISMATCH", 2, s, "PASSWORD_RESET"))
        verified = self.verifier.verify_code(issued.challenge_id, code, subject_id=s, purpose=CodePurpose.PASSWORD_RESET)
        self.assertEqual(verified, CodeVerification("VERIFIED", 0, s, "PASSWORD_RESET"))
        self.assertTrue(verified.verified)
        self.assertEqual(
            self.verifier.verify_code(issued.challenge_id, code, subject_id=s, purpose="PASSWORD_RESET").result, "ALREADY_USED"
        )

        # Only the token of the current lease acknowledges; a wrong one changes nothing.
        with self.assertRaises(FailedPrecondition) as caught:
            self.notifier.ack(delivery.delivery_id, lease_token="0" * 32)
        self.assertEqual(caught.exception.reason, "LEASE_LOST")
        self.assertIsNone(self.notifier.ack(delivery.delivery_id, lease_token=delivery.lease_token))
        with self.assertRaises(NotFound) as caught:
            self.notifier.ack(delivery.delivery_id, lease_token=delivery.lease_token)
        self.assertEqual(caught.exception.field, "deliveryId")

        sms = self.agent.issue_code(s, "SMS", "STEP_UP", destination=phone)
        self.assertTrue(sms.masked_destination.endswith(phone[-4:]))
        text = self.delivery(phone)
        self.assertEqual((text.channel, text.template), ("SMS", "CODE_STEP_UP"))
        self.notifier.ack(text.delivery_id, outcome=verity_client.DeliveryOutcome.FAILED, lease_token=text.lease_token)

    def test_lease_lost_once_the_delivery_is_leased_again(self) -> None:
        s = sid("lease")
        email = f"{s}@example.org"
        self.agent.enroll(s, emails=[email])
        self.verifier.issue_code(s, "EMAIL", "STEP_UP")
        first = self.delivery(email, lease_seconds=1)
        time.sleep(1.2)  # the first lease runs out
        second = self.delivery(email)
        self.assertEqual(second.delivery_id, first.delivery_id)
        self.assertNotEqual(second.lease_token, first.lease_token)
        with self.assertRaises(FailedPrecondition) as caught:
            self.notifier.ack(first.delivery_id, "FAILED", lease_token=first.lease_token)
        self.assertEqual(caught.exception.reason, "LEASE_LOST")
        self.assertIsNone(self.notifier.ack(second.delivery_id, lease_token=second.lease_token))

    def test_a_replaced_code_is_not_delivered(self) -> None:
        s = sid("replaced")
        email = f"{s}@example.org"
        self.agent.enroll(s, emails=[email])
        first = self.verifier.issue_code(s, "EMAIL", "ACCOUNT_LINK")
        second = self.verifier.issue_code(s, "EMAIL", "ACCOUNT_LINK")
        # Both deliveries were committed with their codes, so one lease would hand out both;
        # the first expired when the second code replaced it.
        deliveries = wait_until(
            lambda: [d for d in self.notifier.lease(max=100, lease_seconds=600) if d.destination == email],
            timeout=10, what=f"a delivery to {email}",
        )
        self.assertEqual(len(deliveries), 1)
        (delivery,) = deliveries
        self.assertEqual(delivery.variables["expiresAt"], second.expires_at)
        code = delivery.variables["code"]
        self.assertEqual(self.verifier.verify_code(first.challenge_id, code, subject_id=s, purpose="ACCOUNT_LINK").result, "EXPIRED")
        self.assertTrue(self.verifier.verify_code(second.challenge_id, code, subject_id=s, purpose="ACCOUNT_LINK").verified)
        self.notifier.ack(delivery.delivery_id, lease_token=delivery.lease_token)

    def test_a_code_is_used_once_among_simultaneous_answers(self) -> None:
        s = sid("once")
        email = f"{s}@example.org"
        self.agent.enroll(s, emails=[email])
        issued = self.verifier.issue_code(s, "EMAIL", "STEP_UP")
        delivery = self.delivery(email)
        code = delivery.variables["code"]
        count = 8
        barrier = threading.Barrier(count)
        results: List[object] = []

        def answer() -> None:
            try:
                barrier.wait(JOIN_TIMEOUT)
                results.append(self.verifier.verify_code(issued.challenge_id, code, subject_id=s, purpose="STEP_UP").result)
            except BaseException as error:  # noqa: BLE001 - reported below
                results.append(error)

        threads = [threading.Thread(target=answer) for _ in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
        self.assertFalse(any(t.is_alive() for t in threads))
        self.assertEqual(sorted(map(str, results)), ["ALREADY_USED"] * (count - 1) + ["VERIFIED"])
        self.notifier.ack(delivery.delivery_id, lease_token=delivery.lease_token)

    def test_audit_trail(self) -> None:
        s = sid("audit")
        self.agent.enroll(s, actor="agent:4711", request_id="py-audit-1")
        page = self.admin.list_audit(subject_id=s)
        self.assertIsNone(page.next_after_seq)
        self.assertEqual(len(page.events), 1)
        event = page.events[0]
        self.assertEqual(
            (event.caller, event.role, event.actor, event.subject_id, event.method, event.action, event.outcome, event.facts),
            ("dev-agent", "agent", "agent:4711", s, "verity.v1.Subjects/Enroll", "ENROLL", "OK", ("kind: CLIENT",)),
        )
        self.assertRegex(event.hash, HEX64)
        self.assertRegex(event.time, TIMESTAMP)

        first = self.admin.list_audit(limit=1)
        self.assertEqual(len(first.events), 1)
        self.assertEqual(first.next_after_seq, first.events[0].seq)
        self.assertEqual(self.admin.list_audit(after_seq=event.seq - 1, limit=1).events[0], event)

        seqs = [e.seq for e in self.admin.iter_audit(page_size=50)]
        self.assertEqual(seqs, list(range(1, len(seqs) + 1)))
        self.assertIn(event.seq, seqs)

        report = self.admin.verify_audit_chain()
        self.assertIsInstance(report, AuditChainReport)
        self.assertTrue(report.ok)
        self.assertIsNone(report.first_bad_seq)
        self.assertGreaterEqual(report.head_seq, event.seq)
        self.assertEqual(report.checked, report.head_seq)
        self.assertRegex(report.head_hash, HEX64)

        # Keyed, and vouched for: a fresh server seals every event and its checkpoints with one key.
        checkpoint = report.checkpoint
        self.assertIsInstance(checkpoint, AuditCheckpoint)
        self.assertEqual((checkpoint.seq, checkpoint.hash), (report.head_seq, report.head_hash))
        self.assertRegex(checkpoint.time, TIMESTAMP)
        self.assertRegex(checkpoint.mac, HEX64)
        self.assertTrue(checkpoint.key_id)
        self.assertEqual(event.key_id, checkpoint.key_id)
        self.assertEqual(checkpoint.head, f"{report.head_seq}:{report.head_hash}")
        self.assertTrue(self.admin.verify_audit_head(checkpoint.seq, checkpoint.hash))
        self.assertTrue(self.admin.verify_audit_head(event.seq, event.hash))
        wrong = "0" * 64 if event.hash != "0" * 64 else "1" * 64
        self.assertFalse(self.admin.verify_audit_head(event.seq, wrong))  # a rewritten event
        self.assertFalse(self.admin.verify_audit_head(report.head_seq + 1000, report.head_hash))  # a trail cut back

    # -- statuses mapped to exception classes ------------------------------------------------

    def test_invalid_argument_with_field_and_reason(self) -> None:
        s = sid("invalid")
        self.agent.enroll(s)
        self.assert_error(InvalidArgument, lambda: self.agent.enroll("has space"), "subjectId", "INVALID_SUBJECT_ID")
        self.assert_error(InvalidArgument, lambda: self.agent.enroll(sid("x"), kind="ROBOT"), "kind", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.enroll(sid("x"), phones=[("12", "CELL")]),
                          "contacts.phones[0].number", "INVALID_PHONE")
        self.assert_error(InvalidArgument, lambda: self.agent.set_security_details(s, pin="1234567", actor=AGENT), "pin", "KNOWN_DEFAULT")
        self.assert_error(InvalidArgument, lambda: self.agent.set_security_details(s, actor=AGENT), "pin", "REQUIRED")
        self.assert_error(InvalidArgument, lambda: self.verifier.verify(s, pin="4829157", channel="FAX"), "channel", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.notifier.lease(max=0), "max", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.admin.unblock(s, " ", actor=ADMIN), "reason", "REQUIRED")
        # Envelope fields.
        self.assert_error(InvalidArgument, lambda: self.agent.health_check(timeout_ms=0), "timeoutMs", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.agent.health_check(metadata={"bad key": "x"}), "metadata", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.health_check(actor="a" * 257), "metadata.actor", "TOO_LONG")

    def test_actor_is_required_for_caseworker_calls(self) -> None:
        s = sid("actor")
        self.agent.enroll(s)
        for call in (
            lambda: self.agent.set_security_details(s, pin="4829157"),
            lambda: self.agent.set_security_details(s, pin="4829157", metadata={"requestId": "py-actor"}),
            lambda: self.agent.apply_defaults(s),
            lambda: self.agent.generate_pin(s),
            lambda: self.admin.unblock(s, "identity confirmed by phone"),
        ):
            self.assert_error(InvalidArgument, call, "metadata.actor", "REQUIRED")
        self.assert_error(PermissionDenied, lambda: self.ivr.generate_pin(s))  # the role comes first
        status = self.agent.get_status(s)
        self.assertEqual((status.state, status.has_pin, status.ivr_pin_updated_at), ("NOT_SET_UP", False, None))
        self.assertEqual(self.agent.set_security_details(s, pin="4829157", metadata={"actor": AGENT}), "ACTIVE")
        event = self.admin.list_audit(subject_id=s).events[-1]
        self.assertEqual((event.method, event.outcome, event.actor), ("verity.v1.Credentials/SetSecurityDetails", "OK", AGENT))

    def test_empty_secrets_are_refused_and_not_counted(self) -> None:
        s = sid("empty")
        self.agent.enroll(s)
        self.agent.set_security_details(s, pin="4829157", password="Blue kettle 1987", actor=AGENT)
        self.agent.generate_pin(s, actor=AGENT)
        blank = "\t\u00a0\u3000"
        for call, field in (
            (lambda: self.verifier.verify(s, pin=""), "pin"),
            (lambda: self.verifier.verify(s, password=blank), "password"),
            (lambda: self.verifier.verify(s, pin="4829157", password=" "), "password"),
            (lambda: self.ivr.verify_pin(s, " "), "pin"),
            (lambda: self.verifier.change(s, current_pin="", current_password="Blue kettle 1987", new_pin="5937261"), "currentPin"),
            (lambda: self.verifier.change(s, current_pin="4829157", current_password="Blue kettle 1987", new_password=blank),
             "newPassword"),
            (lambda: self.verifier.verify_code("0123456789abcdef0123456789abcdef", "", subject_id=s, purpose="STEP_UP"), "code"),
            (lambda: self.agent.set_security_details(s, password="        ", actor=AGENT), "password"),
        ):
            self.assert_error(InvalidArgument, call, field, "EMPTY")
        self.assertEqual(self.agent.get_status(s).consecutive_failures, 0)

    def test_password_policy_on_the_spoken_form(self) -> None:
        s = sid("spoken")
        self.agent.enroll(s)
        for password, reason in (("Ab          ", "TOO_SHORT"), ("a b c d e f g", "TOO_SHORT"), ("Pass Word 1", "TOO_COMMON")):
            error = self.assert_error(InvalidArgument, lambda: self.agent.set_security_details(s, password=password, actor=AGENT),
                                      "password", reason)
            if password.startswith("Ab"):
                self.assertIn("as spoken", error.message)
        self.assertEqual(self.agent.set_security_details(s, password="Blue kettle 1987", actor=AGENT), "ACTIVE")

    def test_generate_pin_makes_a_new_subject_active(self) -> None:
        s = sid("ivronly")
        self.agent.enroll(s)
        generated = self.agent.generate_pin(s, actor=AGENT)
        status = self.ivr.get_status(s)
        self.assertEqual((status.state, status.has_pin, status.has_password), ("ACTIVE", False, False))
        self.assertEqual(self.ivr.verify_pin(s, generated.pin), Verification("VERIFIED", 3))

        refused = sid("refused")
        self.agent.enroll(refused)
        self.agent.apply_defaults(refused, actor=AGENT)
        generated = self.agent.generate_pin(refused, actor=AGENT)
        self.assertEqual(self.ivr.get_status(refused).state, "DEFAULTS_APPLIED")
        self.assertEqual(self.ivr.verify_pin(refused, generated.pin), Verification("NOT_SET_UP", 0))

    def test_not_found(self) -> None:
        self.assert_error(NotFound, lambda: self.agent.get_status(sid("ghost")), "subjectId")
        self.assert_error(NotFound, lambda: self.agent.enroll(sid("rep"), kind="REPRESENTATIVE", represents_subject_id=sid("ghost")),
                          "representsSubjectId")
        self.assert_error(NotFound, lambda: self.verifier.verify_code("0123456789abcdef0123456789abcdef", "123456",
                                                                      subject_id=sid("ghost"), purpose="STEP_UP"), "challengeId")
        self.assert_error(NotFound, lambda: self.notifier.ack("0123456789abcdef0123456789abcdef", lease_token="0" * 32),
                          "deliveryId")

    def test_already_exists(self) -> None:
        s = sid("twice")
        self.agent.enroll(s)
        self.assert_error(AlreadyExists, lambda: self.agent.enroll(s))

    def test_permission_denied(self) -> None:
        error = self.assert_error(PermissionDenied, lambda: self.ivr.unblock(sid("x"), "x"))
        self.assertEqual(error.message, "role ivr may not call verity.v1.Admin/Unblock")
        self.assert_error(PermissionDenied, lambda: self.notifier.get_status(sid("x")))
        self.assert_error(PermissionDenied, lambda: self.verifier.lease())

    def test_failed_precondition(self) -> None:
        client, rep = sid("client"), sid("rep")
        self.agent.enroll(client)
        self.agent.enroll(rep, kind="REPRESENTATIVE", represents_subject_id=client)
        self.assert_error(FailedPrecondition, lambda: self.agent.enroll(sid("rep2"), kind="REPRESENTATIVE", represents_subject_id=rep),
                          reason="NOT_A_CLIENT")
        self.assert_error(FailedPrecondition, lambda: self.admin.unblock(client, "not blocked", actor=ADMIN), reason="NOT_BLOCKED")
        self.assert_error(FailedPrecondition, lambda: self.verifier.issue_code(client, "EMAIL", "STEP_UP"), reason="NO_ELIGIBLE_CONTACT")
        # A representative's details are a caseworker's to set, not its own to change.
        self.agent.set_security_details(rep, pin="4829157", actor=AGENT)
        self.assert_error(FailedPrecondition, lambda: self.verifier.change(rep, current_pin="4829157", new_pin="5937261"),
                          reason="REPRESENTATIVE")
        self.assertEqual(self.agent.get_status(rep).consecutive_failures, 0)
        self.assertEqual(self.agent.set_security_details(rep, pin="5937261", actor=AGENT), "ACTIVE")

    def test_audit_of_unknown_subjects_and_refusals(self) -> None:
        ghost, s = sid("ghost"), sid("refusals")
        self.assert_error(NotFound, lambda: self.verifier.verify(ghost, pin="4829157"), "subjectId")
        (event,) = self.admin.list_audit(subject_id=ghost).events
        self.assertEqual((event.method, event.action, event.outcome, event.subject_id, event.facts),
                         ("verity.v1.Credentials/Verify", "VERIFY", "UNKNOWN_SUBJECT", ghost, ("not evaluated: PIN",)))
        self.agent.enroll(s)
        self.agent.update_contacts(s, emails=["pat@example.org"], phones=[("602 555 4567", "CELL")], actor=AGENT)
        self.assert_error(InvalidArgument, lambda: self.agent.set_security_details(s, pin="0000000", actor=AGENT), "pin", "ALL_ZEROES")
        events = self.admin.list_audit(subject_id=s).events
        self.assertEqual([(e.method, e.outcome) for e in events], [
            ("verity.v1.Subjects/Enroll", "OK"),
            ("verity.v1.Subjects/UpdateContacts", "OK"),
            ("verity.v1.Credentials/SetSecurityDetails", "INVALID_ARGUMENT"),
        ])
        self.assertEqual(events[1].facts, ("e-mail: p***@example.org", "phone CELL: ***4567"))
        self.assertEqual((events[2].action, events[2].facts), ("REFUSED", ("reason: ALL_ZEROES",)))

    def test_unimplemented(self) -> None:
        error = self.assert_error(Unimplemented, lambda: self.agent.call("verity.v1.Subjects/Teleport", {}))
        self.assertIn("verity.v1.Subjects/Teleport", error.message)

    def test_resource_exhausted_rate_limited(self) -> None:
        s = sid("rate")
        self.agent.enroll(s, emails=[f"{s}@example.org"])
        for _ in range(5):
            self.verifier.issue_code(s, "EMAIL", "STEP_UP")
        error = self.assert_error(ResourceExhausted, lambda: self.verifier.issue_code(s, "EMAIL", "STEP_UP"), reason="RATE_LIMITED")
        self.assertRegex(error.retry_after or "", TIMESTAMP)
        self.assertGreater(parse_timestamp(error.retry_after), datetime.now(timezone.utc))

    # -- one connection, many threads --------------------------------------------------------

    def test_concurrent_calls_share_one_connection(self) -> None:
        threads_count, rounds = 20, 5
        with self.server.client("agent") as client:
            self.assertEqual(client.health_check(), "SERVING")
            subjects = [sid(f"thread{i}") for i in range(threads_count)]
            pins = ["48291%02d" % i for i in range(threads_count)]
            barrier = threading.Barrier(threads_count)
            failures: List[str] = []
            answers: Dict[int, int] = {}

            def worker(i: int) -> None:
                try:
                    barrier.wait(JOIN_TIMEOUT)
                    s, pin = subjects[i], pins[i]
                    if client.enroll(s, request_id=f"enroll-{i}").subject_id != s:
                        failures.append(f"{i}: enroll answered for another subject")
                    client.set_security_details(s, pin=pin, actor=AGENT)
                    count = 2
                    for k in range(rounds):
                        if client.get_status(s).subject_id != s:
                            failures.append(f"{i}: status of another subject")
                        expected = Verification("VERIFIED", 3) if k % 2 == 0 else Verification("MISMATCH", 2)
                        got = client.verify(s, pin=pin if k % 2 == 0 else "5937261", request_id=f"verify-{i}-{k}")
                        if got != expected:
                            failures.append(f"{i} round {k}: {got} != {expected}")
                        count += 2
                    answers[i] = count
                except BaseException as error:  # noqa: BLE001 - reported below
                    failures.append(f"{i}: {error!r}")

            threads = [threading.Thread(target=worker, args=(i,)) for i in range(threads_count)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join(JOIN_TIMEOUT)
            self.assertFalse(any(t.is_alive() for t in threads), "threads still running")
            self.assertEqual(failures, [])
            self.assertEqual(sum(answers.values()), threads_count * (2 + 2 * rounds))
            self.assertEqual(client.connects, 1)

    # -- secrets, limits, life cycle ---------------------------------------------------------

    def test_secrets_never_in_exception_text(self) -> None:
        s = sid("secret")
        self.agent.enroll(s)
        refused = [
            dict(pin="0000000"),
            dict(pin="8765432"),
            dict(pin="4829157", password="what the fuck"),
            dict(pin="4829157", password="kettle4829157"),
            dict(pin="4829157", password="password1"),
        ]
        for secrets in refused:
            with self.assertRaises(InvalidArgument) as caught:
                self.agent.set_security_details(s, **secrets, actor=AGENT)
            text = error_text(caught.exception)
            for secret in secrets.values():
                self.assertNotIn(secret, text)
        with self.assertRaises(InvalidArgument) as caught:
            self.verifier.change(s, current_pin="9182736", new_pin="2345678")
        self.assertNotIn("9182736", error_text(caught.exception))
        self.assertNotIn("2345678", error_text(caught.exception))
        with self.assertRaises(NotFound) as caught:
            self.verifier.verify(sid("ghost"), pin="4829157", password="Blue kettle 1987")
        self.assertNotIn("4829157", error_text(caught.exception))
        self.assertNotIn("kettle", error_text(caught.exception))
        with self.assertRaises(NotFound) as caught:
            self.verifier.verify_code("0123456789abcdef0123456789abcdef", "918273", subject_id=s, purpose="STEP_UP")
        self.assertNotIn("918273", error_text(caught.exception))
        with self.assertRaises(ResourceExhausted) as caught:  # refused by the client itself
            self.agent.set_security_details(s, pin="4829157", password="Zq" + "x" * 70000, actor=AGENT)
        self.assertNotIn("Zqxxx", error_text(caught.exception))

    def test_oversized_request_is_refused_locally_and_the_connection_stays(self) -> None:
        with self.server.client("agent") as client:
            self.assertEqual(client.health_check(), "SERVING")
            with self.assertRaises(ResourceExhausted) as caught:
                client.call("verity.v1.Health/Check", {"padding": "x" * 70000})
            self.assertEqual(caught.exception.reason, "FRAME_TOO_LARGE")
            self.assertTrue(caught.exception.details.get("local"))
            self.assertEqual(client.health_check(), "SERVING")
            self.assertEqual(client.connects, 1)

    def test_call_raw_returns_the_envelope(self) -> None:
        response = self.agent.call_raw({"id": None, "method": "verity.v1.Health/Check", "timeoutMs": 2000,
                                        "metadata": {"requestId": "py-raw"}})
        self.assertEqual(response["status"], {"code": 0, "name": "OK"})
        self.assertEqual(response["message"], {"status": "SERVING"})
        self.assertIsInstance(response["id"], int)
        denied = self.ivr.call_raw({"method": "verity.v1.Admin/VerifyAuditChain"})
        self.assertEqual(denied["status"]["code"], 7)
        self.assertNotIn("message", denied)

    def test_close_and_context_manager(self) -> None:
        with self.server.client("verifier") as client:
            self.assertEqual(client.health_check(), "SERVING")
            self.assertTrue(client.connected)
        self.assertTrue(client.closed)
        self.assertFalse(client.connected)
        with self.assertRaises(ConnectionLost) as caught:
            client.health_check()
        self.assertFalse(caught.exception.sent)

    def test_tls_failures_are_connection_lost(self) -> None:
        # The server's own certificate is no CA: the chain cannot be verified.
        server = self.server
        wrong_ca = Client(server.host, server.port, cert=server.cert("agent"), key=server.key("agent"),
                          ca=f"{server.pki}/server.pem", connect_timeout=5)
        with wrong_ca, self.assertRaises(ConnectionLost) as caught:
            wrong_ca.health_check()
        self.assertFalse(caught.exception.sent)
        self.assertIn("certificate", str(caught.exception))
        wrong_name = Client(server.host, server.port, cert=server.cert("agent"), key=server.key("agent"), ca=server.ca,
                            server_hostname="verity.example.org", connect_timeout=5)
        with wrong_name, self.assertRaises(ConnectionLost) as caught:
            wrong_name.health_check()
        self.assertIn("certificate", str(caught.exception))

    def test_client_certificate_from_another_ca_is_connection_lost(self) -> None:
        # Another development PKI: its client certificates do not chain to this server's CA.
        # With TLS 1.3 the refusal may only arrive as an alert after the handshake.
        other = VerityServer()
        self.addCleanup(other.cleanup)
        other.start()
        other.stop()
        stranger = Client(self.server.host, self.server.port, cert=other.cert("agent"), key=other.key("agent"), ca=self.server.ca,
                          connect_timeout=5)
        with stranger, self.assertRaises(ConnectionLost) as caught:
            stranger.health_check()
        self.assertRegex(str(caught.exception), "(?i)alert|certificate|handshake|closed|reset|ended|failed")


# =============================================================================================
# Deadlines and shutdown, with a slow hashing pool


class SlowPoolTests(unittest.TestCase):
    """One hashing thread and scrypt N=2^16: each secret takes a noticeable time to hash."""

    def start_slow_server(self) -> VerityServer:
        server = VerityServer(extra_args=["--hashing-threads", "1", "--scrypt-log-n", "16"], metrics=True)
        self.addCleanup(server.cleanup)
        server.start()
        self.assertIsNotNone(server.metrics_port)
        return server

    def occupy_pool(self, server: VerityServer, client: Client, count: int = 2) -> List[threading.Thread]:
        """Sends ``count`` slow requests from other threads and waits until one of them queues."""
        results: List[object] = []
        threads = []
        for i in range(count):
            s = sid(f"slow{i}")
            client.enroll(s)
            thread = threading.Thread(
                target=lambda s=s: results.append(
                    client.set_security_details(s, pin="4829157", password="Blue kettle 1987", actor=AGENT)
                )
            )
            thread.results = results  # type: ignore[attr-defined]
            threads.append(thread)
            thread.start()
        # One job hashes while another waits: the pool is busy for a while yet.
        wait_until(lambda: (server.metric("verity_hashing_queue_depth") or 0) >= 1, timeout=10, what="a queued hashing job")
        return threads

    def join(self, threads: List[threading.Thread]) -> List[object]:
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
        self.assertFalse(any(t.is_alive() for t in threads))
        return threads[0].results  # type: ignore[attr-defined]

    def test_deadline_exceeded_while_the_hashing_pool_is_busy(self) -> None:
        server = self.start_slow_server()
        with server.client("agent") as client:
            s = sid("late")
            client.enroll(s)
            slow = self.occupy_pool(server, client)
            with self.assertRaises(DeadlineExceeded) as caught:
                client.set_security_details(s, pin="5937261", timeout_ms=1, actor=AGENT)
            self.assertEqual((caught.exception.code, caught.exception.name), (4, "DEADLINE_EXCEEDED"))
            self.assertNotIn("local", caught.exception.details)  # the server's answer, not the client's timer
            self.assertEqual(self.join(slow), ["ACTIVE", "ACTIVE"])
            # A call that missed its deadline had no effect.
            status = client.get_status(s)
            self.assertEqual((status.state, status.has_pin), ("NOT_SET_UP", False))
            self.assertEqual(client.connects, 1)
        server.stop()

    def test_unavailable_while_shutting_down(self) -> None:
        server = self.start_slow_server()
        with server.client("agent") as client:
            slow = self.occupy_pool(server, client)
            server.terminate()
            wait_until(lambda: any("shutting down" in line for line in server.log), timeout=10, what="the shutdown")
            # Requests in flight keep the connection open; a new request is refused.
            with self.assertRaises(Unavailable) as caught:
                client.health_check()
            self.assertIs(type(caught.exception), Unavailable)
            self.assertEqual(self.join(slow), ["ACTIVE", "ACTIVE"])  # work already received is answered
            server.wait_stopped()
            wait_until(lambda: not client.connected, timeout=10, what="the connection to close")


# =============================================================================================
# Reconnecting after the server restarts


class ReconnectTests(unittest.TestCase):
    def test_next_call_reconnects_after_a_restart(self) -> None:
        server = VerityServer()
        self.addCleanup(server.cleanup)
        server.start()
        client = server.client("agent")
        self.addCleanup(client.close)
        s = sid("restart")
        client.enroll(s)
        self.assertEqual(client.connects, 1)
        port = server.port

        server.stop()
        wait_until(lambda: not client.connected, timeout=10, what="the client to see the close")
        with self.assertRaises(ConnectionLost) as caught:  # nothing listens now
            client.health_check()
        self.assertFalse(caught.exception.sent)

        server.start(port=port)
        self.assertEqual(server.port, port)
        self.assertEqual(client.health_check(), "SERVING")
        self.assertEqual(client.get_status(s).subject_id, s)  # same data directory
        self.assertEqual(client.connects, 2)
        client.close()
        server.stop()


# =============================================================================================
# Connection failures, with a scripted TLS peer


def read_frame(sock: ssl.SSLSocket) -> Optional[dict]:
    header = b""
    while len(header) < 4:
        chunk = sock.recv(4 - len(header))
        if not chunk:
            return None
        header += chunk
    (length,) = struct.unpack(">I", header)
    body = b""
    while len(body) < length:
        chunk = sock.recv(length - len(body))
        if not chunk:
            return None
        body += chunk
    return json.loads(body)


def write_frame(sock: ssl.SSLSocket, frame: dict) -> None:
    body = json.dumps(frame).encode()
    sock.sendall(struct.pack(">I", len(body)) + body)


def ok(frame: dict, message: dict) -> dict:
    return {"id": frame["id"], "status": {"code": 0, "name": "OK"}, "message": message}


class ScriptedPeer:
    """A TLS server with the development server certificate that runs ``script(index, sock)`` for
    the connection numbered ``index``; connections after the scripted ones answer every frame
    with its own message."""

    def __init__(self, scripts: List[Callable[[ssl.SSLSocket], None]]) -> None:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        pki = live.server
        context.load_cert_chain(f"{pki.pki}/server.pem", f"{pki.pki}/server-key.pem")
        context.load_verify_locations(pki.ca)
        context.verify_mode = ssl.CERT_REQUIRED
        context.set_alpn_protocols(["verity/1"])
        self.context = context
        self.scripts = scripts
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.listener.settimeout(JOIN_TIMEOUT)
        self.port = self.listener.getsockname()[1]
        self.errors: List[BaseException] = []
        self.sockets: List[ssl.SSLSocket] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        index = 0
        while True:
            try:
                raw, _ = self.listener.accept()
            except OSError:
                return
            try:
                raw.settimeout(JOIN_TIMEOUT)
                sock = self.context.wrap_socket(raw, server_side=True)
                self.sockets.append(sock)
                script = self.scripts[index] if index < len(self.scripts) else self.echo
                index += 1
                threading.Thread(target=self._run, args=(script, sock), daemon=True).start()
            except BaseException as error:  # noqa: BLE001
                self.errors.append(error)

    def _run(self, script, sock) -> None:
        try:
            script(sock)
        except (OSError, ssl.SSLError):
            pass
        except BaseException as error:  # noqa: BLE001
            self.errors.append(error)
        finally:
            sock.close()

    @staticmethod
    def echo(sock: ssl.SSLSocket) -> None:
        while True:
            frame = read_frame(sock)
            if frame is None:
                return
            write_frame(sock, ok(frame, frame.get("message") or {}))

    def client(self) -> Client:
        pki = live.server
        return Client("127.0.0.1", self.port, cert=pki.cert("agent"), key=pki.key("agent"), ca=pki.ca, connect_timeout=5)

    def close(self) -> None:
        self.listener.close()
        for sock in self.sockets:
            try:
                sock.close()
            except OSError:
                pass


class ConnectionFailureTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        live.server  # for its PKI (raises SkipTest without a server)

    def peer(self, *scripts: Callable[[ssl.SSLSocket], None]) -> ScriptedPeer:
        peer = ScriptedPeer(list(scripts))
        self.addCleanup(peer.close)
        return peer

    def calls_in_threads(self, client: Client, count: int) -> List[object]:
        """``count`` calls from as many threads; each outcome is a message or an exception."""
        outcomes: List[object] = [None] * count

        def run(i: int) -> None:
            try:
                outcomes[i] = client.call("test.v1.Echo/Echo", {"n": i})
            except BaseException as error:  # noqa: BLE001
                outcomes[i] = error

        threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(JOIN_TIMEOUT)
        self.assertFalse(any(t.is_alive() for t in threads))
        return outcomes

    def test_dropped_connection_fails_every_pending_call_and_the_next_call_reconnects(self) -> None:
        def drop_after_three(sock):
            for _ in range(3):
                self.assertIsNotNone(read_frame(sock))
            sock.shutdown(socket.SHUT_RDWR)

        peer = self.peer(drop_after_three)
        with peer.client() as client:
            outcomes = self.calls_in_threads(client, 3)
            for outcome in outcomes:
                self.assertIsInstance(outcome, ConnectionLost)
                self.assertTrue(outcome.sent)
            self.assertEqual(client.call("test.v1.Echo/Echo", {"n": 7}), {"n": 7})
            self.assertEqual(client.connects, 2)
        self.assertEqual(peer.errors, [])

    def test_id_zero_frame_fails_every_pending_call_with_its_status(self) -> None:
        def violation_after_two(sock):
            for _ in range(2):
                self.assertIsNotNone(read_frame(sock))
            write_frame(sock, {"id": 0, "status": {"code": 3, "name": "INVALID_ARGUMENT", "message": "duplicate id",
                                                    "details": {"reason": "DUPLICATE_ID"}}})
            sock.unwrap()

        peer = self.peer(violation_after_two)
        with peer.client() as client:
            outcomes = self.calls_in_threads(client, 2)
            for outcome in outcomes:
                self.assertIsInstance(outcome, ProtocolViolation)
                self.assertEqual((outcome.code, outcome.name, outcome.reason), (3, "INVALID_ARGUMENT", "DUPLICATE_ID"))
                self.assertEqual(outcome.status["details"], {"reason": "DUPLICATE_ID"})
            self.assertEqual(client.call("test.v1.Echo/Echo", {"n": 8}), {"n": 8})
            self.assertEqual(client.connects, 2)
        self.assertEqual(peer.errors, [])

    def test_answers_in_any_order_reach_their_callers(self) -> None:
        def reversed_answers(sock):
            frames = [read_frame(sock) for _ in range(4)]
            for frame in reversed(frames):
                write_frame(sock, ok(frame, {"echo": frame["message"]["n"]}))
            ScriptedPeer.echo(sock)

        peer = self.peer(reversed_answers)
        with peer.client() as client:
            outcomes = self.calls_in_threads(client, 4)
            self.assertEqual(outcomes, [{"echo": i} for i in range(4)])
            self.assertEqual(client.connects, 1)

    def test_local_deadline_when_no_answer_comes(self) -> None:
        arrived = threading.Event()

        def answer_late(sock):
            first = read_frame(sock)
            arrived.set()
            second = read_frame(sock)  # sent after the first call gave up
            write_frame(sock, ok(first, {"late": True}))
            write_frame(sock, ok(second, {"n": second["message"]["n"]}))
            ScriptedPeer.echo(sock)

        peer = self.peer(answer_late)
        with peer.client() as client, mock.patch.object(client_module, "LOCAL_GRACE_SECONDS", 0.2):
            started = time.monotonic()
            with self.assertRaises(DeadlineExceeded) as caught:
                client.call("test.v1.Echo/Echo", {"n": 1}, timeout_ms=100)
            self.assertLess(time.monotonic() - started, 5)
            self.assertTrue(caught.exception.details.get("local"))
            self.assertTrue(arrived.is_set())
            # The late answer is dropped; the connection carries on.
            self.assertEqual(client.call("test.v1.Echo/Echo", {"n": 2}), {"n": 2})
            self.assertEqual(client.connects, 1)


if __name__ == "__main__":
    unittest.main()
