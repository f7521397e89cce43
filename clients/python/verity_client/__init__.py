"""Python client of Verity, the credential service (wire protocol v1, ALPN ``verity/1``).

Standard library only. Example::

    from verity_client import Client, VerityError

    with Client("127.0.0.1", 7443, cert="ivr.pem", key="ivr-key.pem", ca="ca.pem") as verity:
        result = verity.verify_pin("case-1234567/PWC", "048151", timeout_ms=2000)
        if result.result == "VERIFIED":
            ...
"""

from . import client, errors, types
from .client import Client, LinkCaseLike, PhoneLike, PostalAddressLike
from .errors import (
    ERROR_CLASSES,
    STATUS_NAMES,
    Aborted,
    AlreadyExists,
    Cancelled,
    ConnectionLost,
    DataLoss,
    DeadlineExceeded,
    FailedPrecondition,
    Internal,
    InvalidArgument,
    NotFound,
    OutOfRange,
    PermissionDenied,
    ProtocolViolation,
    ResourceExhausted,
    Unauthenticated,
    Unavailable,
    Unimplemented,
    Unknown,
    VerityError,
    error_class_for_code,
    error_from_status,
)
from .types import (
    AuditChainReport,
    AuditCheckpoint,
    AuditEvent,
    AuditPage,
    ChangeRequestReason,
    ChangeRequestSource,
    ChangeRequestStatus,
    Channel,
    CodeChannel,
    CodePurpose,
    CodeResult,
    CodeVerification,
    Delivery,
    DeliveryOutcome,
    EnrollResult,
    FactCheck,
    GeneratedPin,
    IssuedCode,
    LinkCase,
    LinkHold,
    LinkMethod,
    LinkOutcome,
    LinkRequestOrigin,
    LinkRequestStatus,
    Phone,
    PhoneType,
    PostalAddress,
    ServingStatus,
    SubjectKind,
    SubjectState,
    SubjectStatus,
    Verification,
    VerificationResult,
    parse_timestamp,
)

__version__ = "1.0.0"

__all__ = [*client.__all__, *errors.__all__, *types.__all__]
