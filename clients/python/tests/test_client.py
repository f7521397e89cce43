"""The client against a real verityd (and, for connection failures, against a scripted TLS peer)."""

from __future__ import annotations

import json
import re
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

import support
from support import VerityServer, wait_until

import verity_client
import verity_client.client as client_module
from verity_client import (
    AlreadyExists,
    AuditChainReport,
    Channel,
    Client,
    CodeChannel,
    CodePurpose,
    CodeVerification,
    ConnectionLost,
    DeadlineExceeded,
    EnrollResult,
    FailedPrecondition,
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

TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$")
HEX64 = re.compile(r"^[0-9a-f]{64}$")
JOIN_TIMEOUT = 30.0


def sid(label: str) -> str:
    """A subject id no other test uses."""
    return f"py-{label}-{uuid.uuid4().hex[:10]}"


def error_text(error: BaseException) -> str:
    """Everything a log line could show of an exception."""
    parts = [str(error), repr(error), str(error.args)]
    if isinstance(error, VerityError):
        parts += [error.message, json.dumps(error.details), str(error.field), str(error.reason)]
    return "\n".join(parts)


live: Optional[VerityServer] = None


def setUpModule() -> None:
    # Production mode with the development PKI: no console sink, so tests lease the codes.
    # Without VERITYD only the tests that need no server run.
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


# =============================================================================================
# Every method against the server


def require_live() -> VerityServer:
    if live is None:
        support.verityd_path()  # raises SkipTest, saying why
    assert live is not None
    return live


class LiveServerTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls) -> None:
        require_live()
        cls.clients: Dict[str, Client] = {role: live.client(role) for role in support.ROLES}
        cls.agent = cls.clients["agent"]
        cls.verifier = cls.clients["verifier"]
        cls.ivr = cls.clients["ivr"]
        cls.notifier = cls.clients["notifier"]
        cls.admin = cls.clients["admin"]

    @classmethod
    def tearDownClass(cls) -> None:
        for client in cls.clients.values():
            client.close()

    def lease_for(self, destination: str) -> verity_client.Delivery:
        """Leases until the delivery to ``destination`` shows up (it is committed with its code)."""
        def find():
            for delivery in self.notifier.lease(max=100, lease_seconds=600):
                if delivery.destination == destination:
                    return delivery
            return None
        return wait_until(find, timeout=10, what=f"a delivery to {destination}")

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
        self.assertEqual(self.agent.set_security_details(s, pin="4829157", password="Blue kettle 1987"), "ACTIVE")
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

        self.assertEqual(self.verifier.change(s, current_pin="4829157", new_pin="5937261"), Verification("VERIFIED", 3))
        self.assertEqual(
            self.verifier.change(s, current_password="BLUE KETTLE 1987", new_password="Green teapot 2024", channel="PHONE"),
            Verification("VERIFIED", 3),
        )
        self.assertEqual(self.verifier.change(s, current_pin="4829157", new_pin="6048213").result, "MISMATCH")
        self.assertEqual(
            self.verifier.verify(s, pin="5937261", password="Green teapot 2024", channel="PORTAL"), Verification("VERIFIED", 3)
        )

        self.assertEqual(self.agent.apply_defaults(s), "DEFAULTS_APPLIED")
        self.assertEqual(self.verifier.verify(s, pin="5937261"), Verification("NOT_SET_UP", 0))

    def test_ivr_pin_lock_and_unblock(self) -> None:
        s = sid("ivr")
        self.agent.enroll(s)
        self.agent.set_security_details(s, pin="4829157")
        generated = self.agent.generate_pin(s)
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

        with self.assertRaises(FailedPrecondition) as caught:
            self.agent.generate_pin(s)
        self.assertEqual(caught.exception.reason, "BLOCKED")
        self.assertEqual(self.admin.unblock(s, "identity confirmed by phone", actor="admin:7"), "ACTIVE")
        with self.assertRaises(FailedPrecondition) as caught:
            self.admin.unblock(s, "again")
        self.assertEqual(caught.exception.reason, "NOT_BLOCKED")
        self.assertEqual(self.ivr.verify_pin(s, generated.pin), Verification("VERIFIED", 3))

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

        delivery = self.lease_for(email)
        self.assertEqual((delivery.channel, delivery.template), ("EMAIL", "CODE_PASSWORD_RESET"))
        self.assertEqual(delivery.variables["purpose"], "PASSWORD_RESET")
        self.assertEqual(delivery.variables["expiresAt"], issued.expires_at)
        code = delivery.variables["code"]
        self.assertRegex(code, r"^\d{6}$")
        self.assertNotIn(code, repr(delivery))

        wrong = "000000" if code != "000000" else "111111"
        self.assertEqual(self.verifier.verify_code(issued.challenge_id, wrong), CodeVerification("MISMATCH", 2))
        verified = self.verifier.verify_code(issued.challenge_id, code)
        self.assertEqual(verified, CodeVerification("VERIFIED", 0))
        self.assertTrue(verified.verified)
        self.assertEqual(self.verifier.verify_code(issued.challenge_id, code).result, "ALREADY_USED")

        self.assertIsNone(self.notifier.ack(delivery.delivery_id))
        with self.assertRaises(NotFound) as caught:
            self.notifier.ack(delivery.delivery_id)
        self.assertEqual(caught.exception.field, "deliveryId")

        sms = self.agent.issue_code(s, "SMS", "STEP_UP", destination=phone)
        self.assertTrue(sms.masked_destination.endswith(phone[-4:]))
        text = self.lease_for(phone)
        self.assertEqual((text.channel, text.template), ("SMS", "CODE_STEP_UP"))
        self.notifier.ack(text.delivery_id, outcome=verity_client.DeliveryOutcome.FAILED)

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

    # -- statuses mapped to exception classes ------------------------------------------------

    def assert_error(self, cls, call: Callable[[], object], field: Optional[str] = None, reason: Optional[str] = None):
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

    def test_invalid_argument_with_field_and_reason(self) -> None:
        s = sid("invalid")
        self.agent.enroll(s)
        self.assert_error(InvalidArgument, lambda: self.agent.enroll("has space"), "subjectId", "INVALID_SUBJECT_ID")
        self.assert_error(InvalidArgument, lambda: self.agent.enroll(sid("x"), kind="ROBOT"), "kind", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.enroll(sid("x"), phones=[("12", "CELL")]),
                          "contacts.phones[0].number", "INVALID_PHONE")
        self.assert_error(InvalidArgument, lambda: self.agent.set_security_details(s, pin="1234567"), "pin", "KNOWN_DEFAULT")
        self.assert_error(InvalidArgument, lambda: self.agent.set_security_details(s), "pin", "REQUIRED")
        self.assert_error(InvalidArgument, lambda: self.verifier.verify(s, pin="4829157", channel="FAX"), "channel", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.notifier.lease(max=0), "max", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.admin.unblock(s, " "), "reason", "REQUIRED")
        # Envelope fields.
        self.assert_error(InvalidArgument, lambda: self.agent.health_check(timeout_ms=0), "timeoutMs", "OUT_OF_RANGE")
        self.assert_error(InvalidArgument, lambda: self.agent.health_check(metadata={"bad key": "x"}), "metadata", "INVALID_VALUE")
        self.assert_error(InvalidArgument, lambda: self.agent.health_check(actor="a" * 257), "metadata.actor", "TOO_LONG")

    def test_not_found(self) -> None:
        self.assert_error(NotFound, lambda: self.agent.get_status(sid("ghost")), "subjectId")
        self.assert_error(NotFound, lambda: self.agent.enroll(sid("rep"), kind="REPRESENTATIVE", represents_subject_id=sid("ghost")),
                          "representsSubjectId")
        self.assert_error(NotFound, lambda: self.verifier.verify_code("0123456789abcdef0123456789abcdef", "123456"), "challengeId")
        self.assert_error(NotFound, lambda: self.notifier.ack("0123456789abcdef0123456789abcdef"), "deliveryId")

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
        self.assert_error(FailedPrecondition, lambda: self.admin.unblock(client, "not blocked"), reason="NOT_BLOCKED")
        self.assert_error(FailedPrecondition, lambda: self.verifier.issue_code(client, "EMAIL", "STEP_UP"), reason="NO_ELIGIBLE_CONTACT")

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

    @unittest.skip("UNAUTHENTICATED needs a client certificate with an OU that is not a role; the dev PKI has none")
    def test_unauthenticated(self) -> None:
        pass

    # -- one connection, many threads --------------------------------------------------------

    def test_concurrent_calls_share_one_connection(self) -> None:
        threads_count, rounds = 20, 5
        with live.client("agent") as client:
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
                    client.set_security_details(s, pin=pin)
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
                self.agent.set_security_details(s, **secrets)
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
            self.verifier.verify_code("0123456789abcdef0123456789abcdef", "918273")
        self.assertNotIn("918273", error_text(caught.exception))
        with self.assertRaises(ResourceExhausted) as caught:  # refused by the client itself
            self.agent.set_security_details(s, pin="4829157", password="Zq" + "x" * 70000)
        self.assertNotIn("Zqxxx", error_text(caught.exception))

    def test_oversized_request_is_refused_locally_and_the_connection_stays(self) -> None:
        with live.client("agent") as client:
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
        with live.client("verifier") as client:
            self.assertEqual(client.health_check(), "SERVING")
            self.assertTrue(client.connected)
        self.assertTrue(client.closed)
        self.assertFalse(client.connected)
        with self.assertRaises(ConnectionLost) as caught:
            client.health_check()
        self.assertFalse(caught.exception.sent)

    def test_tls_failures_are_connection_lost(self) -> None:
        # The server's own certificate is no CA: the chain cannot be verified.
        wrong_ca = Client(live.host, live.port, cert=live.cert("agent"), key=live.key("agent"),
                          ca=f"{live.pki}/server.pem", connect_timeout=5)
        with wrong_ca, self.assertRaises(ConnectionLost) as caught:
            wrong_ca.health_check()
        self.assertFalse(caught.exception.sent)
        self.assertIn("certificate", str(caught.exception))
        wrong_name = Client(live.host, live.port, cert=live.cert("agent"), key=live.key("agent"), ca=live.ca,
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
        stranger = Client(live.host, live.port, cert=other.cert("agent"), key=other.key("agent"), ca=live.ca,
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
                target=lambda s=s: results.append(client.set_security_details(s, pin="4829157", password="Blue kettle 1987"))
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
                client.set_security_details(s, pin="5937261", timeout_ms=1)
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
        context.load_cert_chain(f"{live.pki}/server.pem", f"{live.pki}/server-key.pem")
        context.load_verify_locations(live.ca)
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
        return Client("127.0.0.1", self.port, cert=live.cert("agent"), key=live.key("agent"), ca=live.ca, connect_timeout=5)

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
        require_live()  # for its PKI

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
