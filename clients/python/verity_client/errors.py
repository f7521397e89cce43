"""Exceptions: one class per non-OK status code, plus the client's own connection errors.

Every error the client raises is a :class:`VerityError`. A status answered by the server becomes
the class of its code (``INVALID_ARGUMENT`` -> :class:`InvalidArgument`, ...). Programs should
switch on the class (or ``code``) and on ``details`` (``field``, ``reason``), never on the wording
of ``message``.

Messages never hold a secret: the server promises it for ``status.message``, and the client
builds its own messages only from method names, sizes, addresses and the server's status.
"""

from __future__ import annotations

from typing import Any, Dict, Mapping, Optional, Type

__all__ = [
    "VerityError",
    "Cancelled",
    "Unknown",
    "InvalidArgument",
    "DeadlineExceeded",
    "NotFound",
    "AlreadyExists",
    "PermissionDenied",
    "ResourceExhausted",
    "FailedPrecondition",
    "Aborted",
    "OutOfRange",
    "Unimplemented",
    "Internal",
    "Unavailable",
    "DataLoss",
    "Unauthenticated",
    "ConnectionLost",
    "ProtocolViolation",
    "STATUS_NAMES",
    "ERROR_CLASSES",
    "error_class_for_code",
    "error_from_status",
]

#: The canonical status names by code (gRPC's vocabulary).
STATUS_NAMES: Dict[int, str] = {
    0: "OK",
    1: "CANCELLED",
    2: "UNKNOWN",
    3: "INVALID_ARGUMENT",
    4: "DEADLINE_EXCEEDED",
    5: "NOT_FOUND",
    6: "ALREADY_EXISTS",
    7: "PERMISSION_DENIED",
    8: "RESOURCE_EXHAUSTED",
    9: "FAILED_PRECONDITION",
    10: "ABORTED",
    11: "OUT_OF_RANGE",
    12: "UNIMPLEMENTED",
    13: "INTERNAL",
    14: "UNAVAILABLE",
    15: "DATA_LOSS",
    16: "UNAUTHENTICATED",
}


class VerityError(Exception):
    """Base class of every error raised by the client.

    Attributes:
        code: the status code (1..16).
        name: the status name, e.g. ``"NOT_FOUND"``.
        message: for a person; may be empty. Never holds a secret.
        details: for machines, e.g. ``{"field": "pin", "reason": "ALL_ZEROES"}``; may be empty.
    """

    code: int = 2
    name: str = "UNKNOWN"

    def __init__(
        self,
        message: str = "",
        details: Optional[Mapping[str, Any]] = None,
        *,
        code: Optional[int] = None,
        name: Optional[str] = None,
    ) -> None:
        if code is not None:
            self.code = code
        if name is not None:
            self.name = name
        self.message = message or ""
        self.details: Dict[str, Any] = dict(details) if details else {}
        super().__init__(self.message)

    @property
    def field(self) -> Optional[str]:
        """``details["field"]``: the request field at fault, e.g. ``"contacts.emails[0]"``."""
        value = self.details.get("field")
        return value if isinstance(value, str) else None

    @property
    def reason(self) -> Optional[str]:
        """``details["reason"]``: why, e.g. ``"REQUIRED"``, ``"RATE_LIMITED"``."""
        value = self.details.get("reason")
        return value if isinstance(value, str) else None

    def __str__(self) -> str:
        text = f"{self.name} ({self.code})"
        if self.message:
            text += f": {self.message}"
        if self.details:
            text += " " + ", ".join(f"{key}={value}" for key, value in sorted(self.details.items()))
        return text

    def __repr__(self) -> str:
        return f"{type(self).__name__}(code={self.code}, name={self.name!r}, message={self.message!r}, details={self.details!r})"


class Cancelled(VerityError):
    """1 CANCELLED. Never returned by v1."""

    code, name = 1, "CANCELLED"


class Unknown(VerityError):
    """2 UNKNOWN. Never answered by a v1 server, which answers a fault it did not classify with
    INTERNAL ``UNEXPECTED``. The client raises it for a status code it does not know, or for an
    answer without a status or without a numeric code; the outcome of the call is unknown."""

    code, name = 2, "UNKNOWN"


class InvalidArgument(VerityError):
    """3 INVALID_ARGUMENT. A bad envelope or message field, or a refused PIN/password.

    ``field`` and ``reason`` say which and why, e.g. ``reason`` ``EMPTY`` for a secret that is
    empty or only whitespace, ``REQUIRED`` for a current factor Change must prove, field
    ``metadata.actor`` for a method that needs an actor. Nothing was changed or counted.
    """

    code, name = 3, "INVALID_ARGUMENT"


class DeadlineExceeded(VerityError):
    """4 DEADLINE_EXCEEDED. The deadline passed before the work started: the call had no effect.

    Also raised by the client itself when no answer came within ``timeout_ms`` + 5 seconds; then
    ``details["local"]`` is ``True`` and the outcome is unknown.
    """

    code, name = 4, "DEADLINE_EXCEEDED"


class NotFound(VerityError):
    """5 NOT_FOUND. An id in the request names nothing; ``field`` names the field.

    For Mfa/VerifyCode also a challenge that belongs to another subject or purpose.
    """

    code, name = 5, "NOT_FOUND"


class AlreadyExists(VerityError):
    """6 ALREADY_EXISTS. Subjects/Enroll of a subject id already enrolled."""

    code, name = 6, "ALREADY_EXISTS"


class PermissionDenied(VerityError):
    """7 PERMISSION_DENIED. The certificate's role may not call the method."""

    code, name = 7, "PERMISSION_DENIED"


class ResourceExhausted(VerityError):
    """8 RESOURCE_EXHAUSTED. A limit was reached; ``reason`` says which.

    ``RATE_LIMITED`` carries ``details["retryAfter"]`` (RFC 3339).
    """

    code, name = 8, "RESOURCE_EXHAUSTED"

    @property
    def retry_after(self) -> Optional[str]:
        """``details["retryAfter"]`` for ``RATE_LIMITED``: the earliest time to retry."""
        value = self.details.get("retryAfter")
        return value if isinstance(value, str) else None


class FailedPrecondition(VerityError):
    """9 FAILED_PRECONDITION. The subject's (or delivery's) state does not allow the call.

    ``reason``: ``BLOCKED``, ``NOT_BLOCKED``, ``NOT_A_CLIENT``, ``NO_ELIGIBLE_CONTACT``,
    ``REPRESENTATIVE`` (Change by a representative) or ``LEASE_LOST`` (Ack with the token of a
    lease that was given to another notifier since). Nothing was changed.
    """

    code, name = 9, "FAILED_PRECONDITION"


class Aborted(VerityError):
    """10 ABORTED. A security check (Verify, Change, Ivr/VerifyPin) could not be judged because
    of other checks of its subject; ``reason`` says how, and whether the attempt counted:

    - ``CHECKS_IN_PROGRESS``: every remaining attempt was held by other checks of the subject
      still being evaluated. Nothing was evaluated or counted: retry after a short back-off,
      once those checks have finished (they take at most a few seconds).
    - ``RESERVATION_LOST``: the check took longer than the longest a check may take (about 2
      minutes by default), and another check meanwhile counted it as a failure. The attempt
      WAS counted; a retry is allowed and counts anew.
    """

    code, name = 10, "ABORTED"


class OutOfRange(VerityError):
    """11 OUT_OF_RANGE. Never returned by v1."""

    code, name = 11, "OUT_OF_RANGE"


class Unimplemented(VerityError):
    """12 UNIMPLEMENTED. The method path names no method of the server."""

    code, name = 12, "UNIMPLEMENTED"


class Internal(VerityError):
    """13 INTERNAL. A fault of the server's own; the outcome of the call is unknown.

    ``reason``: ``CREDENTIAL_INTEGRITY`` or ``CRYPTO_FAILURE`` (a stored credential could not be
    evaluated; the check's attempt was counted, and a retry counts again and fails the same way),
    ``STORE_ERROR`` (the database failed) or ``UNEXPECTED`` (a fault the server did not classify).
    Only an answer the server could not encode at all comes without a ``reason``.
    """

    code, name = 13, "INTERNAL"


class Unavailable(VerityError):
    """14 UNAVAILABLE. The server is shutting down (no ``reason``; the request had no effect), or
    its store is busy (``reason`` ``STORE_BUSY``; retry after a back-off, but a security check
    may already have counted its attempt), or its database cannot be reached (``reason``
    ``STORE_UNAVAILABLE``; the call's own transaction was not written, but a security check may
    already have counted its attempt)."""

    code, name = 14, "UNAVAILABLE"


class DataLoss(VerityError):
    """15 DATA_LOSS. Never returned by v1."""

    code, name = 15, "DATA_LOSS"


class Unauthenticated(VerityError):
    """16 UNAUTHENTICATED. The certificate is trusted but its OU names no Verity role."""

    code, name = 16, "UNAUTHENTICATED"


class ConnectionLost(Unavailable):
    """The connection could not be made, or ended before the answer came (code 14).

    Raised by the client, not sent by the server. When the connection ends with calls in
    flight, their outcome is unknown: the server may or may not have done the work.
    ``sent`` tells whether the request had been written when the connection failed.
    The next call on the same :class:`~verity_client.Client` opens a new connection.
    """

    def __init__(self, message: str = "", details: Optional[Mapping[str, Any]] = None, *, sent: bool = True) -> None:
        super().__init__(message, details)
        self.sent = sent


class ProtocolViolation(VerityError):
    """The server answered with an ``id`` 0 frame: a connection-level protocol violation.

    ``code``, ``name``, ``message`` and ``details`` are those of that frame's status (e.g.
    ``RESOURCE_EXHAUSTED`` / ``FRAME_TOO_LARGE``); ``status`` is the status object as received.
    The server closed the connection; every call in flight on it fails with this error and
    its outcome is unknown. The next call opens a new connection.
    """

    def __init__(self, status: Mapping[str, Any]) -> None:
        code = status.get("code")
        code = code if isinstance(code, int) and not isinstance(code, bool) else 2
        name = status.get("name")
        name = name if isinstance(name, str) else STATUS_NAMES.get(code, "UNKNOWN")
        message = status.get("message")
        details = status.get("details")
        super().__init__(
            message if isinstance(message, str) else "",
            details if isinstance(details, dict) else None,
            code=code,
            name=name,
        )
        self.status: Dict[str, Any] = dict(status)


#: The exception class of each non-OK status code.
ERROR_CLASSES: Dict[int, Type[VerityError]] = {
    cls.code: cls
    for cls in (
        Cancelled,
        Unknown,
        InvalidArgument,
        DeadlineExceeded,
        NotFound,
        AlreadyExists,
        PermissionDenied,
        ResourceExhausted,
        FailedPrecondition,
        Aborted,
        OutOfRange,
        Unimplemented,
        Internal,
        Unavailable,
        DataLoss,
        Unauthenticated,
    )
}


def error_class_for_code(code: int) -> Type[VerityError]:
    """The exception class for status ``code`` (1..16); :class:`Unknown` for any other."""
    return ERROR_CLASSES.get(code, Unknown)


def error_from_status(status: Mapping[str, Any]) -> VerityError:
    """The exception for a response's non-OK ``status`` object."""
    code = status.get("code")
    if not isinstance(code, int) or isinstance(code, bool):
        return Unknown("response status without a numeric code")
    cls = error_class_for_code(code)
    message = status.get("message")
    details = status.get("details")
    name = status.get("name")
    error = cls(message if isinstance(message, str) else "", details if isinstance(details, dict) else None)
    if cls is Unknown and code != Unknown.code:
        # A code this client does not know: keep the server's number and name.
        error.code = code
        error.name = name if isinstance(name, str) else "UNKNOWN"
    return error
