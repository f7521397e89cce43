"""The Verity client: one multiplexed TLS connection, a generic ``call`` and a typed method per
v1 method."""

from __future__ import annotations

import datetime as _dt
import itertools
import re
import ssl
import threading
import time
from enum import Enum
from typing import Any, Dict, Iterable, Iterator, List, Mapping, Optional, Sequence, Tuple, Union

from .connection import ALPN_PROTOCOL, Connection, NotSent
from .errors import ConnectionLost, error_from_status
from .types import (
    AuditChainReport,
    AuditEvent,
    AuditPage,
    CodeVerification,
    Delivery,
    EnrollResult,
    FactCheck,
    GeneratedPin,
    IssuedCode,
    LinkCase,
    Phone,
    PostalAddress,
    SubjectStatus,
    Verification,
)

__all__ = ["Client", "LinkCaseLike", "PhoneLike", "PostalAddressLike"]

#: A phone: ``("602 555 0100", "CELL")``, ``{"number": ..., "type": ...}`` or a :class:`Phone`.
PhoneLike = Union[Phone, Tuple[str, str], Mapping[str, Any]]
#: A postal address: a :class:`PostalAddress` or ``{"lines": [...], "postalCode": ..., "country": ...}``
#: (``country`` optional).
PostalAddressLike = Union[PostalAddress, Mapping[str, Any]]
#: A case on file for linking: a :class:`LinkCase` or ``{"county", "caseNumber",
#: "primaryApplicant", "permanentlyOutOfHome", "childrenServicesActive"}`` (the last two optional).
LinkCaseLike = Union[LinkCase, Mapping[str, Any]]

#: The server's deadline for a request that names none (framing.md section 7).
SERVER_DEFAULT_DEADLINE_MS = 10000
#: How much longer than the deadline the client waits for an answer before giving up.
LOCAL_GRACE_SECONDS = 5.0

_HEX64 = re.compile(r"[0-9a-f]{64}")


def _wire(value: Any) -> Any:
    """An enum argument as its name on the wire; anything else unchanged."""
    return value.value if isinstance(value, Enum) else value


def _phone_json(phone: PhoneLike) -> Dict[str, Any]:
    if isinstance(phone, Phone):
        return phone.to_json()
    if isinstance(phone, Mapping):
        return {key: _wire(value) for key, value in phone.items()}
    number, kind = phone
    return {"number": number, "type": _wire(kind)}


def _postal_address_json(address: PostalAddressLike) -> Dict[str, Any]:
    if isinstance(address, PostalAddress):
        return address.to_json()
    message = dict(address)
    if "lines" in message and not isinstance(message["lines"], str):
        message["lines"] = list(message["lines"])
    return message


def _link_case_json(case: LinkCaseLike) -> Dict[str, Any]:
    if isinstance(case, LinkCase):
        return case.to_json()
    return {key: _wire(value) for key, value in case.items() if value is not None}


def _names(values: Optional[Union[str, Sequence[str]]]) -> Optional[List[str]]:
    """A list filter as the wire has it: a list, or one value given as a string."""
    if values is None:
        return None
    return [_wire(values)] if isinstance(values, str) else [_wire(v) for v in values]


def _contacts_json(
    emails: Optional[Iterable[str]],
    phones: Optional[Iterable[PhoneLike]],
    postal_addresses: Optional[Iterable[PostalAddressLike]] = None,
) -> Dict[str, Any]:
    contacts: Dict[str, Any] = {}
    if emails is not None:
        contacts["emails"] = list(emails)
    if phones is not None:
        contacts["phones"] = [_phone_json(p) for p in phones]
    if postal_addresses is not None:
        contacts["postalAddresses"] = [_postal_address_json(a) for a in postal_addresses]
    return contacts


def _timestamp(value: Union[str, _dt.datetime]) -> str:
    """A time as the wire has it (RFC 3339 UTC with milliseconds); a string is sent as given."""
    if isinstance(value, str):
        return value
    if value.tzinfo is None:
        raise ValueError("a time needs its time zone (an aware datetime), e.g. datetime.now(timezone.utc)")
    utc = value.astimezone(_dt.timezone.utc)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + "%03dZ" % (utc.microsecond // 1000)


def _message(**fields: Any) -> Dict[str, Any]:
    """A request message from its camelCase fields, leaving out those that are None."""
    return {key: _wire(value) for key, value in fields.items() if value is not None}


class Client:
    """A thread-safe client of verityd.

    One TLS connection carries the calls of every thread. The connection is opened by the first
    call; if it drops, the calls in flight raise :class:`~verity_client.ConnectionLost` and the
    next call opens a new one. Use it as a context manager, or call :meth:`close`.

    Args:
        host, port: where verityd listens.
        cert, key: the client certificate and its key (PEM files); the OU names the role.
        ca: the CA (PEM) that signed the server's certificate.
        server_hostname: the name checked against the server's certificate.
        connect_timeout: seconds for the TCP connect and the TLS handshake.
        default_timeout_ms: the deadline sent with calls that give no ``timeout_ms``
            (None: send none; the server then applies its default, 10 s unless configured).
        max_frame_bytes: the largest request frame sent (the server's ``maxFrameBytes``).
        max_in_flight: most calls in flight on the connection (the server's limit is 256).
    """

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 7443,
        *,
        cert: str,
        key: str,
        ca: str,
        server_hostname: str = "localhost",
        connect_timeout: float = 10.0,
        default_timeout_ms: Optional[int] = None,
        max_frame_bytes: int = 65536,
        max_in_flight: int = 256,
    ) -> None:
        self.host = host
        self.port = port
        self.server_hostname = server_hostname
        self.connect_timeout = connect_timeout
        self.default_timeout_ms = default_timeout_ms
        self.max_frame_bytes = max_frame_bytes
        self.max_in_flight = max_in_flight
        self._context = self._make_context(cert, key, ca)
        self._lock = threading.Lock()
        self._connection: Optional[Connection] = None
        self._closed = False
        self._connects = 0
        self._ids = itertools.count(1)
        self._id_lock = threading.Lock()

    @staticmethod
    def _make_context(cert: str, key: str, ca: str) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies the certificate and the name
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_verify_locations(cafile=ca)
        context.load_cert_chain(certfile=cert, keyfile=key)
        context.set_alpn_protocols([ALPN_PROTOCOL])
        context.options |= ssl.OP_NO_COMPRESSION
        if hasattr(ssl, "OP_NO_RENEGOTIATION"):
            context.options |= ssl.OP_NO_RENEGOTIATION
        # TLS 1.2 only with ECDHE and AEAD ciphers, as the server requires; TLS 1.3 suites are AEAD.
        context.set_ciphers("ECDHE+AESGCM:ECDHE+CHACHA20")
        return context

    # ----------------------------------------------------------------------------------------
    # Life cycle

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc_info: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Client(host={self.host!r}, port={self.port!r})"

    def close(self) -> None:
        """Closes the connection. Calls still in flight raise ConnectionLost; later calls too."""
        with self._lock:
            self._closed = True
            connection, self._connection = self._connection, None
        if connection is not None:
            connection.close()

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def connected(self) -> bool:
        """True while a connection is open (the next call may still find it gone)."""
        connection = self._connection
        return connection is not None and not connection.dead

    @property
    def connects(self) -> int:
        """How many connections this client has opened so far."""
        return self._connects

    def connect(self) -> None:
        """Opens the connection now instead of at the first call (optional)."""
        self._current_connection()

    def _current_connection(self) -> Connection:
        with self._lock:
            if self._closed:
                raise ConnectionLost("the client is closed", sent=False)
            connection = self._connection
            if connection is None or connection.dead:
                self._connection = None
                connection = Connection.open(
                    self.host,
                    self.port,
                    self._context,
                    server_hostname=self.server_hostname,
                    connect_timeout=self.connect_timeout,
                    max_in_flight=self.max_in_flight,
                    max_frame_bytes=self.max_frame_bytes,
                )
                self._connection = connection
                self._connects += 1
            return connection

    def _next_id(self) -> int:
        with self._id_lock:
            return next(self._ids)

    # ----------------------------------------------------------------------------------------
    # Generic calls

    def call_raw(self, envelope: Mapping[str, Any]) -> Dict[str, Any]:
        """Sends a request envelope as given and returns the response envelope as received.

        ``envelope`` holds ``method``, ``timeoutMs``, ``metadata`` and ``message`` as they should go
        on the wire (any of them may be left out or be malformed; this is for tests and tools).
        Its ``id``, if any, is replaced by a fresh one. No status is turned into an exception:
        only the loss of the connection (:class:`ConnectionLost`, :class:`ProtocolViolation`) and
        the client's own deadline (:class:`DeadlineExceeded`) raise.
        """
        timeout_ms = envelope.get("timeoutMs")
        if not isinstance(timeout_ms, int) or isinstance(timeout_ms, bool) or timeout_ms <= 0:
            timeout_ms = SERVER_DEFAULT_DEADLINE_MS
        deadline = time.monotonic() + timeout_ms / 1000.0 + LOCAL_GRACE_SECONDS
        while True:
            connection = self._current_connection()
            try:
                return connection.call(self._next_id(), dict(envelope), deadline)
            except NotSent as not_sent:
                # The connection ended before a byte of this request was written. If it had
                # served calls (it went away while idle, say), sending on a new one is safe; a
                # fresh connection that died at once (a refused certificate) would only die again.
                if connection.answered == 0:
                    raise not_sent.error from None

    def call(
        self,
        method_path: str,
        message: Optional[Mapping[str, Any]] = None,
        *,
        timeout_ms: Optional[int] = None,
        metadata: Optional[Mapping[str, str]] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
    ) -> Dict[str, Any]:
        """Calls ``method_path`` (e.g. ``"verity.v1.Health/Check"``) with ``message`` (the request
        message in its JSON mapping) and returns the response message.

        A status other than OK raises its exception class (:class:`InvalidArgument`, ...).
        ``timeout_ms`` is sent as the deadline (default: ``default_timeout_ms``); the client waits
        at most that plus 5 seconds. ``actor`` and ``request_id`` go into the metadata as
        ``actor`` and ``requestId``.
        """
        envelope: Dict[str, Any] = {"method": method_path}
        if timeout_ms is None:
            timeout_ms = self.default_timeout_ms
        if timeout_ms is not None:
            envelope["timeoutMs"] = timeout_ms
        meta: Dict[str, Any] = dict(metadata) if metadata else {}
        if actor is not None:
            meta["actor"] = actor
        if request_id is not None:
            meta["requestId"] = request_id
        if meta:
            envelope["metadata"] = meta
        envelope["message"] = dict(message) if message is not None else {}
        response = self.call_raw(envelope)
        status = response.get("status")
        if not isinstance(status, dict):
            status = {"code": 2, "name": "UNKNOWN", "message": "response without a status"}
        if status.get("code") != 0 or isinstance(status.get("code"), bool):
            raise error_from_status(status)
        result = response.get("message")
        return result if isinstance(result, dict) else {}

    # ----------------------------------------------------------------------------------------
    # verity.v1.Subjects

    def enroll(
        self,
        subject_id: str,
        kind: str = "CLIENT",
        represents_subject_id: Optional[str] = None,
        emails: Optional[Sequence[str]] = None,
        phones: Optional[Sequence[PhoneLike]] = None,
        postal_addresses: Optional[Sequence[PostalAddressLike]] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> EnrollResult:
        """Subjects/Enroll. ``kind`` is ``"CLIENT"`` or ``"REPRESENTATIVE"`` (then
        ``represents_subject_id`` names the client). ``phones``: ``(number, type)`` tuples or
        ``{"number", "type"}`` dicts. ``postal_addresses``: :class:`PostalAddress` objects or
        ``{"lines", "postalCode", "country"}`` dicts; letters go to the first."""
        message = _message(subjectId=subject_id, kind=kind, representsSubjectId=represents_subject_id)
        if emails is not None or phones is not None or postal_addresses is not None:
            message["contacts"] = _contacts_json(emails, phones, postal_addresses)
        reply = self.call("verity.v1.Subjects/Enroll", message, timeout_ms=timeout_ms, actor=actor,
                          request_id=request_id, metadata=metadata)
        return EnrollResult.from_json(reply)

    def update_contacts(
        self,
        subject_id: str,
        emails: Optional[Sequence[str]] = None,
        phones: Optional[Sequence[PhoneLike]] = None,
        postal_addresses: Optional[Sequence[PostalAddressLike]] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> None:
        """Subjects/UpdateContacts: replaces every contact on file, postal addresses included
        (a kind not given is removed; none given: removes them all)."""
        message = _message(subjectId=subject_id)
        message["contacts"] = _contacts_json(emails, phones, postal_addresses)
        self.call("verity.v1.Subjects/UpdateContacts", message, timeout_ms=timeout_ms, actor=actor,
                  request_id=request_id, metadata=metadata)

    def get_status(
        self,
        subject_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> SubjectStatus:
        """Subjects/GetStatus."""
        reply = self.call("verity.v1.Subjects/GetStatus", _message(subjectId=subject_id), timeout_ms=timeout_ms,
                          actor=actor, request_id=request_id, metadata=metadata)
        return SubjectStatus.from_json(reply)

    # ----------------------------------------------------------------------------------------
    # verity.v1.Credentials

    def set_security_details(
        self,
        subject_id: str,
        pin: Optional[str] = None,
        password: Optional[str] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> str:
        """Credentials/SetSecurityDetails. Returns the new state (``"ACTIVE"``).

        The server requires the metadata ``actor`` (``actor=`` or ``metadata={"actor": ...}``);
        without it: :class:`InvalidArgument`, field ``metadata.actor``, reason ``REQUIRED``."""
        reply = self.call("verity.v1.Credentials/SetSecurityDetails",
                          _message(subjectId=subject_id, pin=pin, password=password), timeout_ms=timeout_ms,
                          actor=actor, request_id=request_id, metadata=metadata)
        return str(reply.get("state", ""))

    def apply_defaults(
        self,
        subject_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> str:
        """Credentials/ApplyDefaults. Returns the new state (``"DEFAULTS_APPLIED"``).

        Requires the metadata ``actor``, as :meth:`set_security_details` does."""
        reply = self.call("verity.v1.Credentials/ApplyDefaults", _message(subjectId=subject_id),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return str(reply.get("state", ""))

    def verify(
        self,
        subject_id: str,
        pin: Optional[str] = None,
        password: Optional[str] = None,
        channel: str = "PHONE",
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Verification:
        """Credentials/Verify: PIN, password or both. A mismatch is a result, not an error.

        An empty or blank secret is refused (:class:`InvalidArgument`, reason ``EMPTY``) without
        being counted. :class:`Aborted`, reason ``CHECKS_IN_PROGRESS``: other checks of the
        subject hold its remaining attempts; nothing was counted, retry after a short wait.
        :class:`Aborted`, reason ``RESERVATION_LOST``: the check took longer than the longest a
        check may take (about 2 minutes by default) and was counted as a failure; a retry counts
        anew."""
        reply = self.call("verity.v1.Credentials/Verify",
                          _message(subjectId=subject_id, pin=pin, password=password, channel=channel),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return Verification.from_json(reply)

    def change(
        self,
        subject_id: str,
        current_pin: Optional[str] = None,
        current_password: Optional[str] = None,
        new_pin: Optional[str] = None,
        new_password: Optional[str] = None,
        channel: Optional[str] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Verification:
        """Credentials/Change: self-service change; the new details are stored only when the
        result is VERIFIED. ``channel`` (default on the server: PORTAL) says how the current
        password is compared.

        Every factor the subject has must be given: ``current_pin`` if it has a PIN,
        ``current_password`` if it has a password (else :class:`InvalidArgument`, reason
        ``REQUIRED``, nothing counted). A REPRESENTATIVE may not use it
        (:class:`FailedPrecondition`, reason ``REPRESENTATIVE``). :class:`Aborted` as for
        :meth:`verify`; after ``RESERVATION_LOST`` nothing was stored."""
        reply = self.call("verity.v1.Credentials/Change",
                          _message(subjectId=subject_id, currentPin=current_pin, currentPassword=current_password,
                                   newPin=new_pin, newPassword=new_password, channel=channel),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return Verification.from_json(reply)

    # ----------------------------------------------------------------------------------------
    # verity.v1.Ivr

    def generate_pin(
        self,
        subject_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> GeneratedPin:
        """Ivr/GeneratePin. The PIN in the result is its only copy: read it out, never store it.

        A NOT_SET_UP subject becomes ACTIVE (the IVR PIN is then its only secret); a
        DEFAULTS_APPLIED subject stays so. Requires the metadata ``actor``, as
        :meth:`set_security_details` does."""
        reply = self.call("verity.v1.Ivr/GeneratePin", _message(subjectId=subject_id), timeout_ms=timeout_ms,
                          actor=actor, request_id=request_id, metadata=metadata)
        return GeneratedPin.from_json(reply)

    def verify_pin(
        self,
        subject_id: str,
        pin: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Verification:
        """Ivr/VerifyPin: checks an IVR PIN; it shares the lock with Verify (and so may raise
        :class:`Aborted`, reason ``CHECKS_IN_PROGRESS`` or ``RESERVATION_LOST``, as
        :meth:`verify` does)."""
        reply = self.call("verity.v1.Ivr/VerifyPin", _message(subjectId=subject_id, pin=pin), timeout_ms=timeout_ms,
                          actor=actor, request_id=request_id, metadata=metadata)
        return Verification.from_json(reply)

    # ----------------------------------------------------------------------------------------
    # verity.v1.Mfa

    def issue_code(
        self,
        subject_id: str,
        channel: str,
        purpose: str,
        destination: Optional[str] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> IssuedCode:
        """Mfa/IssueCode: ``channel`` ``"EMAIL"`` or ``"SMS"``; ``purpose`` e.g.
        ``"PASSWORD_RESET"``; ``destination`` picks a contact on file (default: the first
        eligible one). The code goes to the outbox, never into the response."""
        reply = self.call("verity.v1.Mfa/IssueCode",
                          _message(subjectId=subject_id, channel=channel, purpose=purpose, destination=destination),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return IssuedCode.from_json(reply)

    def verify_code(
        self,
        challenge_id: str,
        code: str,
        *,
        subject_id: str,
        purpose: str,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> CodeVerification:
        """Mfa/VerifyCode. A wrong code is a result (MISMATCH), not an error.

        ``subject_id`` and ``purpose`` (e.g. ``"PASSWORD_RESET"``) name whom and what the code
        must prove: a challenge of another subject or purpose is :class:`NotFound` (field
        ``challengeId``), exactly like an unknown one, and uses no try. The result echoes both.
        A code is single use: of simultaneous right answers exactly one is VERIFIED."""
        reply = self.call("verity.v1.Mfa/VerifyCode",
                          _message(challengeId=challenge_id, code=code, subjectId=subject_id, purpose=purpose),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return CodeVerification.from_json(reply)

    # ----------------------------------------------------------------------------------------
    # verity.v1.Notifications

    def lease(
        self,
        max: int = 10,
        lease_seconds: int = 60,
        *,
        channels: Optional[Sequence[str]] = None,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> List[Delivery]:
        """Notifications/Lease: up to ``max`` (1-100) deliveries, hidden for ``lease_seconds``
        (1-3600). Oldest first; possibly empty. Each carries the ``lease_token`` that
        :meth:`ack` needs. ``channels`` (such as ``["LETTER"]``) leases only those channels'
        deliveries; without it, e-mails and texts only (letters go only to a lease that names
        ``"LETTER"``)."""
        message: Dict[str, Any] = {"max": max, "leaseSeconds": lease_seconds}
        if channels:
            message["channels"] = list(channels)
        reply = self.call("verity.v1.Notifications/Lease", message,
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        deliveries = reply.get("deliveries")
        if not isinstance(deliveries, list):
            return []
        return [Delivery.from_json(d) for d in deliveries if isinstance(d, dict)]

    def ack(
        self,
        delivery_id: str,
        outcome: str = "SENT",
        *,
        lease_token: str,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> None:
        """Notifications/Ack: ``"SENT"`` or ``"FAILED"``; either way the delivery is finished.

        ``lease_token`` is the ``Delivery.lease_token`` of the lease that handed the delivery out.
        If the lease ran out and the delivery was leased again since, the answer is
        :class:`FailedPrecondition` with reason ``LEASE_LOST`` and nothing changes: another
        notifier holds it now."""
        self.call("verity.v1.Notifications/Ack",
                  _message(deliveryId=delivery_id, leaseToken=lease_token, outcome=outcome),
                  timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    # ----------------------------------------------------------------------------------------
    # verity.v1.Admin

    def unblock(
        self,
        subject_id: str,
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> str:
        """Admin/Unblock: a BLOCKED subject becomes ACTIVE; ``reason`` goes into the audit trail.

        Requires the metadata ``actor``, as :meth:`set_security_details` does."""
        reply = self.call("verity.v1.Admin/Unblock", _message(subjectId=subject_id, reason=reason),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return str(reply.get("state", ""))

    # ----------------------------------------------------------------------------------------
    # verity.v1.Recovery (proto-spec/recovery.md)

    def set_facts(
        self,
        subject_id: str,
        *,
        identity_document: Optional[Mapping[str, str]] = None,
        place_of_birth: Optional[Mapping[str, str]] = None,
        children: Optional[Sequence[Mapping[str, str]]] = None,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Tuple[str, ...]:
        """Recovery/SetFacts: each kind given replaces the one on file; returns the kinds on file.
        ``identity_document`` is ``{"kind", "number", "issuer"}``, ``place_of_birth``
        ``{"city", "state"}``, ``children`` a list of ``{"fullName", "dateOfBirth"}``."""
        reply = self.call("verity.v1.Recovery/SetFacts",
                          _message(subjectId=subject_id, identityDocument=identity_document, placeOfBirth=place_of_birth,
                                   children=children),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return tuple(str(kind) for kind in reply.get("factsOnFile", []))

    def remove_facts(
        self,
        subject_id: str,
        facts: Sequence[str],
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Tuple[str, ...]:
        """Recovery/RemoveFacts: removes kinds of fact (a list, or one kind as a string), with a
        reason; returns the kinds left."""
        kinds = [facts] if isinstance(facts, str) else list(facts)
        reply = self.call("verity.v1.Recovery/RemoveFacts", _message(subjectId=subject_id, facts=kinds, reason=reason),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return tuple(str(kind) for kind in reply.get("factsOnFile", []))

    def check_facts(
        self,
        subject_id: str,
        *,
        identity_document: Optional[Mapping[str, str]] = None,
        place_of_birth: Optional[Mapping[str, str]] = None,
        children: Optional[Sequence[Mapping[str, str]]] = None,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> FactCheck:
        """Recovery/CheckFacts: the fallback identity check, counted towards the lock like
        :meth:`verify`. The document counts when one is on file; otherwise the place of birth
        and every child."""
        reply = self.call("verity.v1.Recovery/CheckFacts",
                          _message(subjectId=subject_id, identityDocument=identity_document, placeOfBirth=place_of_birth,
                                   children=children),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return FactCheck.from_json(reply)

    def open_recovery_request(
        self,
        subject_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Recovery/OpenRequest: a request that waits for a copy of an identity document (or the
        one already waiting). Returns the RecoveryRequest message: ``recoveryRequestId``, ``status``, ..."""
        return self.call("verity.v1.Recovery/OpenRequest", _message(subjectId=subject_id),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def confirm_recovery_document(
        self,
        recovery_request_id: str,
        subject_id: str,
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Recovery/ConfirmDocument: the document was received and matches; ``reason`` goes into
        the audit trail. A request of another subject answers :class:`NotFound`."""
        return self.call("verity.v1.Recovery/ConfirmDocument",
                         _message(recoveryRequestId=recovery_request_id, subjectId=subject_id, reason=reason),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def recovery_request(
        self,
        recovery_request_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Recovery/GetRequest: the request as it stands now (``EXPIRED`` once past ``expiresAt``)."""
        return self.call("verity.v1.Recovery/GetRequest", _message(recoveryRequestId=recovery_request_id),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def remove_password(
        self,
        subject_id: str,
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> str:
        """Recovery/RemovePassword: the PIN stays; returns the subject's state."""
        reply = self.call("verity.v1.Recovery/RemovePassword", _message(subjectId=subject_id, reason=reason),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return str(reply.get("state", ""))

    def list_audit(
        self,
        subject_id: Optional[str] = None,
        after_seq: Optional[int] = None,
        limit: Optional[int] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> AuditPage:
        """Admin/ListAudit: one page of events with ``seq`` > ``after_seq``, oldest first.
        Pass ``page.next_after_seq`` as ``after_seq`` for the next page (None: the end)."""
        reply = self.call("verity.v1.Admin/ListAudit",
                          _message(subjectId=subject_id, afterSeq=after_seq, limit=limit),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return AuditPage.from_json(reply)

    def iter_audit(
        self,
        subject_id: Optional[str] = None,
        after_seq: Optional[int] = None,
        page_size: Optional[int] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
    ) -> Iterator[AuditEvent]:
        """Every matching audit event, page after page (Admin/ListAudit)."""
        while True:
            page = self.list_audit(subject_id, after_seq, page_size, timeout_ms=timeout_ms, actor=actor)
            yield from page.events
            if page.next_after_seq is None:
                return
            after_seq = page.next_after_seq

    def verify_audit_chain(
        self,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> AuditChainReport:
        """Admin/VerifyAuditChain: recomputes the chain and reports the first break. When the
        chain is intact, ``report.checkpoint`` holds its head, vouched for by the service: keep
        ``report.checkpoint.head`` (``"SEQ:HASH"``) outside the database, for
        :meth:`verify_audit_head`."""
        reply = self.call("verity.v1.Admin/VerifyAuditChain", {}, timeout_ms=timeout_ms, actor=actor,
                          request_id=request_id, metadata=metadata)
        return AuditChainReport.from_json(reply)

    def verify_audit_head(
        self,
        seq: int,
        hash: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> bool:
        """Whether the audit trail still holds, intact, everything up to a checkpoint kept
        earlier (``AuditCheckpoint.seq`` and ``.hash``): True when nothing up to event ``seq``
        was cut off or rewritten. It checks what ``verityctl audit verify --expect-head
        SEQ:HASH`` checks: Admin/VerifyAuditChain answers ``ok`` with ``head_seq >= seq``, and
        Admin/ListAudit with ``after_seq=seq - 1, limit=1`` returns event ``seq`` with exactly
        ``hash``.

        False when any of these fails; :meth:`verify_audit_chain` (``ok``, ``head_seq``) and
        :meth:`list_audit` tell which. ``seq`` must be 1 or more and ``hash`` 64 hex digits
        (compared in lower case), else ValueError. Errors of the two calls raise as usual.
        """
        if not isinstance(seq, int) or isinstance(seq, bool) or seq < 1:
            raise ValueError("seq is the checkpoint's event number, 1 or more")
        expected = hash.lower() if isinstance(hash, str) else ""
        if not _HEX64.fullmatch(expected):
            raise ValueError("hash is the checkpoint's hash, 64 hexadecimal digits")
        options: Dict[str, Any] = dict(timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        report = self.verify_audit_chain(**options)
        if not report.ok or report.head_seq < seq:
            return False  # broken, or cut back before the checkpoint
        page = self.list_audit(after_seq=seq - 1, limit=1, **options)
        return bool(page.events) and page.events[0].seq == seq and page.events[0].hash == expected

    # ----------------------------------------------------------------------------------------
    # verity.v1.ChangeRequests (procedure 002: changing security details by request)

    def raise_change_request(
        self,
        subject_id: str,
        source: str,
        reason: str,
        reported_by: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """ChangeRequests/Raise. ``source`` is ``"PHONE"``, ``"LETTER"`` or ``"SELF_SERVICE"``;
        ``reason`` ``"BLOCKED_AFTER_FAILED_CHECKS"`` (the subject must be BLOCKED) or
        ``"CLIENT_REQUEST"``; ``reported_by`` names the person who reported it and their role on
        the case. A phone or letter report sends the form (letter CMSL9800) to the first postal
        address on file and is ``WAITING`` for 7 days; a self-service one is ``OPEN``, due within
        24 hours. Returns the ChangeRequest message: ``changeRequestId``, ``status``, ``dueAt``, ...

        :class:`FailedPrecondition` with reason ``REQUEST_ACTIVE`` (another request of the
        subject still waits), ``NO_POSTAL_ADDRESS``, ``NOT_BLOCKED``, ``NOT_SET_UP`` or
        ``REPRESENTATIVE``. Requires the metadata ``actor``."""
        return self.call("verity.v1.ChangeRequests/Raise",
                         _message(subjectId=subject_id, source=source, reason=reason, reportedBy=reported_by),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def change_request(
        self,
        change_request_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """ChangeRequests/Get: the request as it stands now (``overdue`` as of now)."""
        return self.call("verity.v1.ChangeRequests/Get", _message(changeRequestId=change_request_id),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def list_change_requests(
        self,
        *,
        statuses: Optional[Union[str, Sequence[str]]] = None,
        subject_id: Optional[str] = None,
        due_before: Optional[Union[str, _dt.datetime]] = None,
        overdue: Optional[bool] = None,
        page_size: Optional[int] = None,
        page_token: Optional[str] = None,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """ChangeRequests/List: one page of the requests that match every filter given, oldest
        first. ``statuses``: a list (or one status as a string), any of which matches;
        ``due_before``: an RFC 3339 string or an aware datetime; ``overdue``: only requests past
        their due time that still wait for someone; ``page_size`` 1 to 100 (server default 25).
        Returns ``{"changeRequests": [...], "nextPageToken": ...}``; pass ``nextPageToken`` as
        ``page_token`` for the next page (absent: the end). :meth:`iter_change_requests` does it."""
        kinds = None if statuses is None else [_wire(statuses)] if isinstance(statuses, str) else [_wire(s) for s in statuses]
        reply = self.call("verity.v1.ChangeRequests/List",
                          _message(statuses=kinds, subjectId=subject_id,
                                   dueBefore=None if due_before is None else _timestamp(due_before),
                                   overdue=overdue, pageSize=page_size, pageToken=page_token),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        if not isinstance(reply.get("changeRequests"), list):
            reply["changeRequests"] = []
        return reply

    def iter_change_requests(
        self,
        *,
        statuses: Optional[Union[str, Sequence[str]]] = None,
        subject_id: Optional[str] = None,
        due_before: Optional[Union[str, _dt.datetime]] = None,
        overdue: Optional[bool] = None,
        page_size: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
    ) -> Iterator[Dict[str, Any]]:
        """Every matching change request, page after page (ChangeRequests/List, following
        ``nextPageToken``)."""
        page_token: Optional[str] = None
        while True:
            page = self.list_change_requests(statuses=statuses, subject_id=subject_id, due_before=due_before,
                                             overdue=overdue, page_size=page_size, page_token=page_token,
                                             timeout_ms=timeout_ms, actor=actor)
            yield from (r for r in page["changeRequests"] if isinstance(r, dict))
            token = page.get("nextPageToken")
            if not isinstance(token, str) or not token:
                return
            page_token = token

    def receive_change_request_form(
        self,
        change_request_id: str,
        subject_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """ChangeRequests/ReceiveForm: the form came back; a WAITING request becomes
        ``IN_PROGRESS`` (the waits stop; a caseworker acts within 24 hours). A request of another
        subject is :class:`NotFound`. Requires the metadata ``actor``."""
        return self.call("verity.v1.ChangeRequests/ReceiveForm",
                         _message(changeRequestId=change_request_id, subjectId=subject_id),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def accept_change_request(
        self,
        change_request_id: str,
        subject_id: str,
        new_pin: Optional[str] = None,
        new_password: Optional[str] = None,
        confirm_by_sms: Optional[bool] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """ChangeRequests/Accept: sets the new details (one or both; the PIN and password
        policies apply, :class:`InvalidArgument` on ``newPin``/``newPassword``), unblocks a BLOCKED
        subject, and confirms it by a text (``confirm_by_sms`` and a phone that takes texts on
        file) or else by letter CMSL9802. Returns ``{"changeRequest": {...}, "state": "ACTIVE"}``.

        A request still WAITING is :class:`FailedPrecondition` with reason
        ``FORM_NOT_RECEIVED`` (record the form first); one that has ended, ``REQUEST_CLOSED``.
        Requires the metadata ``actor``."""
        return self.call("verity.v1.ChangeRequests/Accept",
                         _message(changeRequestId=change_request_id, subjectId=subject_id, newPin=new_pin,
                                  newPassword=new_password, confirmBySms=confirm_by_sms),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def decline_change_request(
        self,
        change_request_id: str,
        subject_id: str,
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """ChangeRequests/Decline: ``DECLINED``, with ``reason`` as its ``resolutionReason`` and in
        the audit trail. Requires the metadata ``actor``."""
        return self.call("verity.v1.ChangeRequests/Decline",
                         _message(changeRequestId=change_request_id, subjectId=subject_id, reason=reason),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def close_change_request(
        self,
        change_request_id: str,
        subject_id: str,
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """ChangeRequests/Close: ends the request without a decision (raised in error, no longer
        needed): ``CLOSED``, with ``reason``. Requires the metadata ``actor``."""
        return self.call("verity.v1.ChangeRequests/Close",
                         _message(changeRequestId=change_request_id, subjectId=subject_id, reason=reason),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    # ----------------------------------------------------------------------------------------
    # verity.v1.Portal (procedure 001: registration on the self-service portal, password reset)

    def start_registration(
        self,
        subject_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Portal/StartRegistration: sends a registration e-mail with a single-use token to the
        first e-mail address on file (EMAIL delivery, template ``PORTAL_REGISTRATION``,
        variables ``token``, ``subjectId``, ``expiresAt``); a token sent before for the subject
        stops working (``TOKEN_REPLACED``), and so does a token whose address is no longer on
        file. Returns ``{"subjectId", "maskedDestination", "expiresAt"}``, never the token; the
        token lasts 72 hours.

        :class:`FailedPrecondition` with reason ``BLOCKED`` for a blocked person (no e-mail goes
        out), ``NO_EMAIL`` when no e-mail address is on file. Role agent; requires the metadata
        ``actor``."""
        return self.call("verity.v1.Portal/StartRegistration", _message(subjectId=subject_id),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def complete_registration(
        self,
        token: str,
        password: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Portal/CompleteRegistration: redeems the e-mailed ``token`` (``ID.SECRET`` as the e-mail
        gave it) and sets ``password`` as the portal password (the password policy applies:
        :class:`InvalidArgument` on ``password``). Returns ``{"subjectId", "state"}``; the state
        is ``"ACTIVE"``. The lock's count of failed checks stays as it was.

        A token works once: of simultaneous redemptions exactly one succeeds. Refusals:
        :class:`FailedPrecondition` with reason ``TOKEN_USED``, ``TOKEN_REPLACED`` (a newer
        registration e-mail was sent, or the e-mail address the token was sent to is no longer
        on file), ``TOKEN_EXPIRED`` or ``BLOCKED``; :class:`NotFound`, field ``token``, for a
        token that matches none (a wrong secret included); :class:`InvalidArgument`, field
        ``token``, for one that is not ``ID.SECRET``. A refusal uses nothing up. Role verifier."""
        return self.call("verity.v1.Portal/CompleteRegistration", _message(token=token, password=password),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def reset_password(
        self,
        subject_id: str,
        challenge_id: str,
        new_password: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> str:
        """Portal/ResetPassword: sets a new portal password on the grant of a PASSWORD_RESET
        code sent by e-mail: :meth:`issue_code` (channel ``"EMAIL"``, purpose
        ``"PASSWORD_RESET"``), the code from the outbox, :meth:`verify_code`, then this call with
        the challenge's id within 10 minutes of the verification, once. The person must have a
        password already: a reset registers no one. Returns the subject's state, which the reset
        does not change; nor does it clear the lock's count of failed checks.

        :class:`FailedPrecondition` with reason ``CODE_NOT_BY_EMAIL`` (the code went by text),
        ``CODE_NOT_VERIFIED``, ``GRANT_USED``, ``GRANT_EXPIRED``, ``BLOCKED`` or ``NO_PASSWORD``;
        :class:`NotFound`, field ``challengeId``, for a challenge of another subject or purpose,
        as for an unknown one; :class:`InvalidArgument` on ``newPassword`` under the password
        policy. A refusal uses nothing up. Role verifier."""
        reply = self.call("verity.v1.Portal/ResetPassword",
                          _message(subjectId=subject_id, challengeId=challenge_id, newPassword=new_password),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        return str(reply.get("state", ""))

    # ----------------------------------------------------------------------------------------
    # verity.v1.Links (procedure 003: linking a portal account to a person)

    def set_link_facts(
        self,
        subject_id: str,
        registrant_name: str,
        date_of_birth: str,
        zip_code: str,
        cases: Sequence[LinkCaseLike],
        customer_privacy_active: Optional[bool] = None,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Links/SetFacts: puts on file the facts a link is decided on, replacing any before.
        ``registrant_name`` is the name the counties' queues show; ``date_of_birth``
        ``YYYY-MM-DD``, ``MM/DD/YYYY`` or ``YYYYMMDD``; ``zip_code`` ``12345``, ``12345-6789`` or
        ``123456789`` (spaces at the ends ignored);
        ``cases`` 1 to 20 :class:`LinkCase` objects or ``{"county", "caseNumber",
        "primaryApplicant", "permanentlyOutOfHome", "childrenServicesActive"}`` dicts. The date of
        birth, the ZIP code and the case numbers are kept only as keyed MACs. Requests go to
        the counties where the person is the primary applicant and not permanently out of the
        home. Returns ``{"subjectId", "cases"}`` (the number of cases on file).

        Role agent; requires the metadata ``actor``."""
        return self.call("verity.v1.Links/SetFacts",
                         _message(subjectId=subject_id, registrantName=registrant_name, dateOfBirth=date_of_birth,
                                  zipCode=zip_code, customerPrivacyActive=customer_privacy_active,
                                  cases=[_link_case_json(c) for c in cases]),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def submit_link(
        self,
        subject_id: str,
        portal_account_id: str,
        date_of_birth: str,
        zip_code: str,
        county: str,
        case_number: str,
        challenge_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Links/Submit: the portal asks to link account ``portal_account_id`` (a GUID) to the
        person, with what they typed (``date_of_birth`` ``YYYY-MM-DD``, ``MM/DD/YYYY`` or
        ``YYYYMMDD``; ``zip_code`` ``12345``, ``12345-6789`` or ``123456789``) and
        ``challenge_id``, required: the challenge of an ACCOUNT_LINK code of this person,
        verified with :meth:`verify_code` within the last 10 minutes and not used before. The
        code's grant is used up when the submission links or queues; a refusal uses nothing up.

        Returns the response message as a dict: ``{"outcome": "LINKED", "link":
        {"portalAccountId", "subjectId", "linkedAt", "method"}}`` when every fact matched and no
        county policy holds it; else ``{"outcome": "QUEUED", "submissionId": ...}``: one request
        waits in each county where the person is the primary applicant (not permanently out of
        the home), under that submission id. The answer never says which fact was wrong, nor
        the person's name, counties or policy flags: a caseworker sees those, with
        :meth:`search_link_requests` and :meth:`show_link_request`.

        The grant is checked first: :class:`InvalidArgument`, field ``challengeId``, reason
        ``REQUIRED`` (None) or ``INVALID_VALUE`` (not 32 lower-case hexadecimal digits);
        :class:`NotFound`, field ``challengeId``, for a challenge not of this subject's
        ACCOUNT_LINK codes; :class:`FailedPrecondition` with reason ``CODE_NOT_VERIFIED``,
        ``GRANT_USED`` or ``GRANT_EXPIRED``. Then :class:`FailedPrecondition` with reason
        ``ACCOUNT_LINKED_TO_ANOTHER_PERSON``, ``ALREADY_LINKED``, ``NO_LINK_FACTS``,
        ``NOT_PRIMARY_APPLICANT`` (primary applicant in no county that takes requests),
        ``NO_VERIFIABLE_CONTACT`` or ``REQUEST_PENDING`` (a request to link this account to the
        person still waits); nothing is queued. Role verifier."""
        return self.call("verity.v1.Links/Submit",
                         _message(subjectId=subject_id, portalAccountId=portal_account_id, dateOfBirth=date_of_birth,
                                  zipCode=zip_code, county=county, caseNumber=case_number, challengeId=challenge_id),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def search_link_requests(
        self,
        *,
        statuses: Optional[Union[str, Sequence[str]]] = None,
        registrant_name: Optional[str] = None,
        county: Optional[str] = None,
        requested_from: Optional[Union[str, _dt.datetime]] = None,
        requested_to: Optional[Union[str, _dt.datetime]] = None,
        page_size: Optional[int] = None,
        page_token: Optional[str] = None,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Links/Search: one page of the counties' queues, oldest first, of the requests that
        match every filter given. ``statuses``: a list (or one status as a string), any of which
        matches; only ``PENDING`` ones when absent. ``registrant_name``: part of the name,
        compared without case (at most 200 characters, no control characters);
        ``requested_from``/``requested_to``: RFC 3339 strings or aware datetimes, both ends
        included (``requestedTo`` before ``requestedFrom``: :class:`InvalidArgument`
        ``OUT_OF_RANGE``); ``page_size`` 1 to 100 (server default 25). Returns
        ``{"linkRequests": [...], "nextPageToken": ...}``; pass ``nextPageToken`` as
        ``page_token`` for the next page (absent: the end). :meth:`iter_link_requests` does it.
        Role agent; requires the metadata ``actor``."""
        reply = self.call("verity.v1.Links/Search",
                          _message(statuses=_names(statuses), registrantName=registrant_name, county=county,
                                   requestedFrom=None if requested_from is None else _timestamp(requested_from),
                                   requestedTo=None if requested_to is None else _timestamp(requested_to),
                                   pageSize=page_size, pageToken=page_token),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        if not isinstance(reply.get("linkRequests"), list):
            reply["linkRequests"] = []
        return reply

    def iter_link_requests(
        self,
        *,
        statuses: Optional[Union[str, Sequence[str]]] = None,
        registrant_name: Optional[str] = None,
        county: Optional[str] = None,
        requested_from: Optional[Union[str, _dt.datetime]] = None,
        requested_to: Optional[Union[str, _dt.datetime]] = None,
        page_size: Optional[int] = None,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
    ) -> Iterator[Dict[str, Any]]:
        """Every matching link request, page after page (Links/Search, following
        ``nextPageToken``). Requires the metadata ``actor``."""
        page_token: Optional[str] = None
        while True:
            page = self.search_link_requests(statuses=statuses, registrant_name=registrant_name, county=county,
                                             requested_from=requested_from, requested_to=requested_to,
                                             page_size=page_size, page_token=page_token, timeout_ms=timeout_ms,
                                             actor=actor)
            yield from (r for r in page["linkRequests"] if isinstance(r, dict))
            token = page.get("nextPageToken")
            if not isinstance(token, str) or not token:
                return
            page_token = token

    def show_link_request(
        self,
        link_request_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Links/Show: ``{"linkRequest": {...}, "cases": [...], "customerPrivacyActive": ...,
        "link": {...}, "otherPendingRequests": [...]}``: the request, the person's cases as a
        caseworker sees them (``county``, ``caseNumberEnding``, the last three characters, never
        the whole number; ``primaryApplicant``, ``permanentlyOutOfHome``,
        ``childrenServicesActive``), the person's current link, if any, and the person's other
        pending requests, from other submissions (other accounts too), oldest first. Audited
        (action ``SHOW_LINK_REQUEST``): it shows a person's cases and policy flags.
        :class:`NotFound`, field ``linkRequestId``. Role agent; requires the metadata
        ``actor``."""
        reply = self.call("verity.v1.Links/Show", _message(linkRequestId=link_request_id),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        if not isinstance(reply.get("otherPendingRequests"), list):
            reply["otherPendingRequests"] = []
        return reply

    def link_account(
        self,
        link_request_id: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Links/Link: a caseworker links the request's account to its person (method
        ``MANUAL``); the request and every pending request of the same submission in other
        counties become ``PROCESSED``. Returns ``{"linkRequests": [...]}``, those it processed.

        :class:`FailedPrecondition` with reason ``REQUEST_CLOSED`` (not PENDING),
        ``ALREADY_LINKED``, ``ACCOUNT_LINKED_TO_ANOTHER_PERSON``, ``NO_LINK_FACTS`` or
        ``NOT_PRIMARY_APPLICANT``. Role agent; requires the metadata ``actor``."""
        reply = self.call("verity.v1.Links/Link", _message(linkRequestId=link_request_id),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        if not isinstance(reply.get("linkRequests"), list):
            reply["linkRequests"] = []
        return reply

    def reject_link_request(
        self,
        link_request_id: str,
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Links/Reject: ``REJECTED``, with ``reason`` as its ``decision`` and in the audit trail;
        the submission's requests in other counties stay pending. Returns the LinkRequest
        message. :class:`FailedPrecondition` with reason ``REQUEST_CLOSED`` when it is not
        PENDING. Role agent; requires the metadata ``actor``."""
        return self.call("verity.v1.Links/Reject", _message(linkRequestId=link_request_id, reason=reason),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    def unlink_account(
        self,
        subject_id: str,
        reason: str,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Links/Unlink: removes the person's portal link and queues them to be linked again: a
        new PENDING request (origin ``UNLINK``, hold ``UNLINKED``) in each county where they are
        the primary applicant. Returns ``{"linkRequests": [...]}``, the new requests.
        :class:`FailedPrecondition` with reason ``NOT_LINKED``. Role admin only; requires the
        metadata ``actor``."""
        reply = self.call("verity.v1.Links/Unlink", _message(subjectId=subject_id, reason=reason),
                          timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)
        if not isinstance(reply.get("linkRequests"), list):
            reply["linkRequests"] = []
        return reply

    # ----------------------------------------------------------------------------------------
    # verity.v1.Development (a development server started with --dev-clock only)

    def advance_clock(
        self,
        seconds: int,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> Dict[str, Any]:
        """Development/AdvanceClock: moves the server's clock forward by ``seconds`` (1 to
        31,536,000) and takes the timed steps that fell due. Returns ``{"now": ..., "stepsTaken":
        n}``. Any other server answers :class:`Unimplemented`. Role admin; requires the
        metadata ``actor``."""
        return self.call("verity.v1.Development/AdvanceClock", _message(seconds=seconds),
                         timeout_ms=timeout_ms, actor=actor, request_id=request_id, metadata=metadata)

    # ----------------------------------------------------------------------------------------
    # verity.v1.Health

    def health_check(
        self,
        *,
        timeout_ms: Optional[int] = None,
        actor: Optional[str] = None,
        request_id: Optional[str] = None,
        metadata: Optional[Mapping[str, str]] = None,
    ) -> str:
        """Health/Check: ``"SERVING"`` or ``"NOT_SERVING"``."""
        reply = self.call("verity.v1.Health/Check", {}, timeout_ms=timeout_ms, actor=actor, request_id=request_id,
                          metadata=metadata)
        return str(reply.get("status", ""))
