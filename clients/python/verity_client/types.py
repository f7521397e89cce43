"""Enums for request arguments and frozen dataclasses for the v1 response messages.

Response values that are enums on the wire (``state``, ``result``, ``channel``, ...) are kept as
plain strings, so that a value added by a later server version never breaks the client:
compare them with strings (``result.result == "VERIFIED"``) or with the enums below, which are
``str`` subclasses (``result.result == VerificationResult.VERIFIED``).

Timestamps are kept as the RFC 3339 strings the server sends; :func:`parse_timestamp` turns
one into an aware :class:`datetime.datetime`.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Dict, List, Mapping, Optional, Tuple

__all__ = [
    "SubjectKind",
    "SubjectState",
    "PhoneType",
    "Channel",
    "CodeChannel",
    "CodePurpose",
    "DeliveryOutcome",
    "ServingStatus",
    "VerificationResult",
    "CodeResult",
    "ChangeRequestSource",
    "ChangeRequestReason",
    "ChangeRequestStatus",
    "LinkRequestStatus",
    "LinkRequestOrigin",
    "LinkHold",
    "LinkMethod",
    "LinkOutcome",
    "LinkCase",
    "Phone",
    "PostalAddress",
    "EnrollResult",
    "SubjectStatus",
    "Verification",
    "FactCheck",
    "GeneratedPin",
    "IssuedCode",
    "CodeVerification",
    "Delivery",
    "AuditEvent",
    "AuditPage",
    "AuditCheckpoint",
    "AuditChainReport",
    "parse_timestamp",
]


class _Name(str, Enum):
    """An enum whose value is its wire name; equal to that string."""

    def __str__(self) -> str:
        return self.value


class SubjectKind(_Name):
    CLIENT = "CLIENT"
    REPRESENTATIVE = "REPRESENTATIVE"


class SubjectState(_Name):
    NOT_SET_UP = "NOT_SET_UP"
    DEFAULTS_APPLIED = "DEFAULTS_APPLIED"
    ACTIVE = "ACTIVE"
    BLOCKED = "BLOCKED"


class PhoneType(_Name):
    CELL = "CELL"
    MAIN = "MAIN"
    MESSAGE = "MESSAGE"
    HOME = "HOME"
    WORK = "WORK"
    FAX = "FAX"
    TDD = "TDD"
    TOLL_FREE = "TOLL_FREE"


class Channel(_Name):
    """Where a security check happens: PHONE compares a password as spoken, PORTAL exactly."""

    PHONE = "PHONE"
    PORTAL = "PORTAL"


class CodeChannel(_Name):
    EMAIL = "EMAIL"
    SMS = "SMS"


class CodePurpose(_Name):
    PORTAL_REGISTRATION = "PORTAL_REGISTRATION"
    PASSWORD_RESET = "PASSWORD_RESET"
    ACCOUNT_LINK = "ACCOUNT_LINK"
    STEP_UP = "STEP_UP"


class DeliveryOutcome(_Name):
    SENT = "SENT"
    FAILED = "FAILED"


class ServingStatus(_Name):
    SERVING = "SERVING"
    NOT_SERVING = "NOT_SERVING"


class VerificationResult(_Name):
    VERIFIED = "VERIFIED"
    MISMATCH = "MISMATCH"
    BLOCKED = "BLOCKED"
    NOT_SET_UP = "NOT_SET_UP"


class CodeResult(_Name):
    VERIFIED = "VERIFIED"
    MISMATCH = "MISMATCH"
    EXPIRED = "EXPIRED"
    EXHAUSTED = "EXHAUSTED"
    ALREADY_USED = "ALREADY_USED"


class ChangeRequestSource(_Name):
    """How a change of security details was reported (ChangeRequests/Raise)."""

    PHONE = "PHONE"
    LETTER = "LETTER"
    #: On the self-service site: no form is sent; a caseworker acts within 24 hours.
    SELF_SERVICE = "SELF_SERVICE"


class ChangeRequestReason(_Name):
    BLOCKED_AFTER_FAILED_CHECKS = "BLOCKED_AFTER_FAILED_CHECKS"
    CLIENT_REQUEST = "CLIENT_REQUEST"


class ChangeRequestStatus(_Name):
    """Where a change request stands; OPEN, IN_PROGRESS and WAITING still wait for someone."""

    OPEN = "OPEN"
    IN_PROGRESS = "IN_PROGRESS"
    WAITING = "WAITING"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    CLOSED = "CLOSED"


class LinkRequestStatus(_Name):
    """Where a request in a county's queue stands (verity.v1.Links)."""

    PENDING = "PENDING"
    #: Linked, by this request or by one of the same submission in another county.
    PROCESSED = "PROCESSED"
    REJECTED = "REJECTED"


class LinkRequestOrigin(_Name):
    """How a link request came to be queued."""

    #: The portal submitted it and it could not be linked automatically.
    PORTAL = "PORTAL"
    #: A caseworker unlinked the account; the person is queued to be linked again.
    UNLINK = "UNLINK"


class LinkHold(_Name):
    """Why a link request was not linked automatically; shown to the caseworker only (Links/Search,
    Links/Show), never in the portal's answer to Links/Submit."""

    DATE_OF_BIRTH_MISMATCH = "DATE_OF_BIRTH_MISMATCH"
    ZIP_CODE_MISMATCH = "ZIP_CODE_MISMATCH"
    #: The county and case number match no case where the person is the primary applicant and
    #: not permanently out of the home (a case of theirs where they are not is a mismatch too).
    CASE_MISMATCH = "CASE_MISMATCH"
    #: A case has an active Children Services program.
    CHILDREN_SERVICES = "CHILDREN_SERVICES"
    #: The person has an active customer privacy record.
    CUSTOMER_PRIVACY = "CUSTOMER_PRIVACY"
    #: The account was unlinked by a caseworker.
    UNLINKED = "UNLINKED"


class LinkMethod(_Name):
    """How a portal account was linked."""

    AUTOMATIC = "AUTOMATIC"
    MANUAL = "MANUAL"


class LinkOutcome(_Name):
    """What a Links/Submit did."""

    LINKED = "LINKED"
    QUEUED = "QUEUED"


def parse_timestamp(value: str) -> _dt.datetime:
    """An RFC 3339 UTC timestamp such as ``"2026-11-22T16:04:29.123Z"`` as an aware datetime."""
    text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
    return _dt.datetime.fromisoformat(text)


def _str(message: Mapping[str, Any], key: str, default: str = "") -> str:
    value = message.get(key, default)
    return value if isinstance(value, str) else default


def _opt_str(message: Mapping[str, Any], key: str) -> Optional[str]:
    value = message.get(key)
    return value if isinstance(value, str) else None


def _int(message: Mapping[str, Any], key: str, default: int = 0) -> int:
    value = message.get(key, default)
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _opt_int(message: Mapping[str, Any], key: str) -> Optional[int]:
    value = message.get(key)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _bool(message: Mapping[str, Any], key: str) -> bool:
    return message.get(key) is True


@dataclass(frozen=True)
class Phone:
    """A phone number on file and its line type (``"CELL"``, ``"HOME"``, ``"FAX"``, ...)."""

    number: str
    type: str

    def to_json(self) -> Dict[str, Any]:
        return {"number": self.number, "type": self.type.value if isinstance(self.type, Enum) else self.type}


@dataclass(frozen=True)
class PostalAddress:
    """A postal address on file, where letters go: 1 to 6 ``lines`` above the postal code (the
    addressee, the street, the town), the ``postal_code``, and ``country`` (ISO 3166-1 alpha-2,
    such as ``"GB"``; None for the agency's own country)."""

    lines: Tuple[str, ...]
    postal_code: str
    country: Optional[str] = None

    @property
    def destination(self) -> str:
        """The address as a LETTER delivery's ``destination``: the lines, the postal code and the
        country, one to a line."""
        return "\n".join([*self.lines, self.postal_code, *([self.country] if self.country is not None else [])])

    def to_json(self) -> Dict[str, Any]:
        message: Dict[str, Any] = {"lines": list(self.lines), "postalCode": self.postal_code}
        if self.country is not None:
            message["country"] = self.country
        return message


@dataclass(frozen=True)
class LinkCase:
    """One case of a person as the case system puts it on file for linking (Links/SetFacts):
    the ``county``, the ``case_number`` (4 to 20 letters and digits; punctuation and spaces are
    ignored), whether the person is its ``primary_applicant``, and, when known, whether they are
    ``permanently_out_of_home`` and whether the case has an active Children Services program
    (``children_services_active``; None leaves the field out: false on the server)."""

    county: str
    case_number: str
    primary_applicant: bool
    permanently_out_of_home: Optional[bool] = None
    children_services_active: Optional[bool] = None

    def to_json(self) -> Dict[str, Any]:
        message: Dict[str, Any] = {"county": self.county, "caseNumber": self.case_number,
                                   "primaryApplicant": self.primary_applicant}
        if self.permanently_out_of_home is not None:
            message["permanentlyOutOfHome"] = self.permanently_out_of_home
        if self.children_services_active is not None:
            message["childrenServicesActive"] = self.children_services_active
        return message


@dataclass(frozen=True)
class EnrollResult:
    """Subjects/Enroll: the new subject, always ``NOT_SET_UP``."""

    subject_id: str
    state: str

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "EnrollResult":
        return cls(subject_id=_str(message, "subjectId"), state=_str(message, "state"))


@dataclass(frozen=True)
class SubjectStatus:
    """Subjects/GetStatus: kind, state, failure count and dates. Never a secret."""

    subject_id: str
    kind: str
    state: str
    consecutive_failures: int
    has_pin: bool
    has_password: bool
    updated_at: str
    represents_subject_id: Optional[str] = None
    blocked_at: Optional[str] = None
    block_reason: Optional[str] = None
    ivr_pin_updated_at: Optional[str] = None

    @property
    def blocked(self) -> bool:
        return self.state == SubjectState.BLOCKED.value

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "SubjectStatus":
        return cls(
            subject_id=_str(message, "subjectId"),
            kind=_str(message, "kind"),
            state=_str(message, "state"),
            consecutive_failures=_int(message, "consecutiveFailures"),
            has_pin=_bool(message, "hasPin"),
            has_password=_bool(message, "hasPassword"),
            updated_at=_str(message, "updatedAt"),
            represents_subject_id=_opt_str(message, "representsSubjectId"),
            blocked_at=_opt_str(message, "blockedAt"),
            block_reason=_opt_str(message, "blockReason"),
            ivr_pin_updated_at=_opt_str(message, "ivrPinUpdatedAt"),
        )


@dataclass(frozen=True)
class Verification:
    """The outcome of a security check (Verify, Change, Ivr/VerifyPin).

    ``result`` is ``"VERIFIED"``, ``"MISMATCH"``, ``"BLOCKED"`` or ``"NOT_SET_UP"``;
    ``attempts_remaining`` the checks left before the subject is blocked.
    """

    result: str
    attempts_remaining: int

    @property
    def verified(self) -> bool:
        return self.result == VerificationResult.VERIFIED.value

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "Verification":
        return cls(result=_str(message, "result"), attempts_remaining=_int(message, "attemptsRemaining"))


@dataclass(frozen=True)
class FactCheck:
    """The outcome of a fallback identity check (Recovery/CheckFacts), a security check like
    :class:`Verification`, with the facts compared (``checked``) and, when VERIFIED only, those
    that matched (``matched``): ``"IDENTITY_DOCUMENT"``, ``"PLACE_OF_BIRTH"``, ``"CHILDREN"``."""

    result: str
    attempts_remaining: int
    checked: Tuple[str, ...]
    matched: Tuple[str, ...]

    @property
    def verified(self) -> bool:
        return self.result == VerificationResult.VERIFIED.value

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "FactCheck":
        return cls(
            result=_str(message, "result"), attempts_remaining=_int(message, "attemptsRemaining"),
            checked=tuple(str(kind) for kind in message.get("checked", [])),
            matched=tuple(str(kind) for kind in message.get("matched", [])),
        )


@dataclass(frozen=True)
class GeneratedPin:
    """Ivr/GeneratePin. ``pin`` is the only copy that ever leaves the service: read it out to the
    person, do not store or log it. It is left out of ``repr()``."""

    pin: str = field(repr=False)
    updated_at: str

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "GeneratedPin":
        return cls(pin=_str(message, "pin"), updated_at=_str(message, "updatedAt"))


@dataclass(frozen=True)
class IssuedCode:
    """Mfa/IssueCode. The code itself is never in the response; it goes to the outbox."""

    challenge_id: str
    masked_destination: str
    expires_at: str

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "IssuedCode":
        return cls(
            challenge_id=_str(message, "challengeId"),
            masked_destination=_str(message, "maskedDestination"),
            expires_at=_str(message, "expiresAt"),
        )


@dataclass(frozen=True)
class CodeVerification:
    """Mfa/VerifyCode: ``"VERIFIED"``, ``"MISMATCH"``, ``"EXPIRED"``, ``"EXHAUSTED"`` or
    ``"ALREADY_USED"``, the tries left (after MISMATCH; else 0), and the subject and purpose the
    server checked the challenge against (those of the request). Of several simultaneous right
    answers, exactly one is VERIFIED; the others are ALREADY_USED."""

    result: str
    attempts_remaining: int
    subject_id: str
    purpose: str

    @property
    def verified(self) -> bool:
        return self.result == CodeResult.VERIFIED.value

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "CodeVerification":
        return cls(
            result=_str(message, "result"),
            attempts_remaining=_int(message, "attemptsRemaining"),
            subject_id=_str(message, "subjectId"),
            purpose=_str(message, "purpose"),
        )


@dataclass(frozen=True)
class Delivery:
    """One message to send (Notifications/Lease). ``variables`` holds the one-time code, so it
    is left out of ``repr()``.

    ``lease_token`` names this lease (32 lowercase hex digits, new with every lease): pass it to
    ``Client.ack`` with ``delivery_id``. Once the lease has run out and the delivery was leased
    again, the old token no longer acknowledges it (``FailedPrecondition``, reason ``LEASE_LOST``).
    """

    delivery_id: str
    lease_token: str
    channel: str
    destination: str
    template: str
    variables: Dict[str, str] = field(repr=False)

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "Delivery":
        variables = message.get("variables")
        return cls(
            delivery_id=_str(message, "deliveryId"),
            lease_token=_str(message, "leaseToken"),
            channel=_str(message, "channel"),
            destination=_str(message, "destination"),
            template=_str(message, "template"),
            variables={str(k): str(v) for k, v in variables.items()} if isinstance(variables, dict) else {},
        )


@dataclass(frozen=True)
class AuditEvent:
    """One act in the audit trail. Never holds a secret.

    ``action``, ``outcome`` and ``facts`` are strings that later server versions may add to
    (e.g. action ``"REFUSED"``, outcome ``"LOST"``, fact ``"not evaluated: PIN"``;
    proto-spec/errors.md lists them). ``key_id`` names the pepper key whose audit-chain key
    sealed the event: ``hash`` is then an HMAC that only the service can recompute. It is None
    for an event written before revision 2, whose ``hash`` is a plain SHA-256.
    """

    seq: int
    time: str
    caller: str
    role: str
    method: str
    action: str
    outcome: str
    facts: Tuple[str, ...]
    hash: str
    actor: Optional[str] = None
    subject_id: Optional[str] = None
    key_id: Optional[str] = None

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "AuditEvent":
        facts = message.get("facts")
        return cls(
            seq=_int(message, "seq"),
            time=_str(message, "time"),
            caller=_str(message, "caller"),
            role=_str(message, "role"),
            method=_str(message, "method"),
            action=_str(message, "action"),
            outcome=_str(message, "outcome"),
            facts=tuple(str(f) for f in facts) if isinstance(facts, list) else (),
            hash=_str(message, "hash"),
            actor=_opt_str(message, "actor"),
            subject_id=_opt_str(message, "subjectId"),
            key_id=_opt_str(message, "keyId"),
        )


@dataclass(frozen=True)
class AuditPage:
    """Admin/ListAudit: events oldest first; ``next_after_seq`` is set when more may follow."""

    events: List[AuditEvent]
    next_after_seq: Optional[int] = None

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "AuditPage":
        events = message.get("events")
        return cls(
            events=[AuditEvent.from_json(e) for e in events if isinstance(e, dict)] if isinstance(events, list) else [],
            next_after_seq=_opt_int(message, "nextAfterSeq"),
        )


@dataclass(frozen=True)
class AuditCheckpoint:
    """The head of an intact audit trail as the service vouches for it (Admin/VerifyAuditChain).

    ``seq`` and ``hash`` are the head's; keep :attr:`head` (``"SEQ:HASH"``) somewhere the
    database's administrators cannot write, and later pass them to
    ``Client.verify_audit_head``. ``mac`` (64 hex digits, under a key derived from the pepper
    key ``key_id``) shows that the service made the checkpoint; only a holder of the pepper can
    check it. ``time`` is RFC 3339.
    """

    seq: int
    hash: str
    time: str
    key_id: str
    mac: str

    @property
    def head(self) -> str:
        """``"SEQ:HASH"``, as ``verityctl audit verify`` prints it and ``--expect-head`` takes it."""
        return f"{self.seq}:{self.hash}"

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "AuditCheckpoint":
        return cls(
            seq=_int(message, "seq"),
            hash=_str(message, "hash"),
            time=_str(message, "time"),
            key_id=_str(message, "keyId"),
            mac=_str(message, "mac"),
        )


@dataclass(frozen=True)
class AuditChainReport:
    """Admin/VerifyAuditChain: ``ok`` when every event checked out, else ``first_bad_seq``.

    ``checkpoint`` is set exactly when ``ok`` is: the head (``head_seq``, ``head_hash``) vouched
    for by the service.
    """

    ok: bool
    checked: int
    head_seq: int
    head_hash: str
    first_bad_seq: Optional[int] = None
    checkpoint: Optional[AuditCheckpoint] = None

    @classmethod
    def from_json(cls, message: Mapping[str, Any]) -> "AuditChainReport":
        checkpoint = message.get("checkpoint")
        return cls(
            ok=_bool(message, "ok"),
            checked=_int(message, "checked"),
            head_seq=_int(message, "headSeq"),
            head_hash=_str(message, "headHash"),
            first_bad_seq=_opt_int(message, "firstBadSeq"),
            checkpoint=AuditCheckpoint.from_json(checkpoint) if isinstance(checkpoint, dict) else None,
        )
