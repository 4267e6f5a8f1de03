namespace Steward.Errors;

/// <summary>Machine-readable failure codes. Each maps to one HTTP status and OSB error string in <see cref="ErrorCodeMapping"/>.</summary>
public enum ErrorCode
{
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    Gone,
    PreconditionFailed,
    PayloadTooLarge,
    UnsupportedMediaType,
    AsyncRequired,
    ConcurrencyError,
    MaintenanceInfoConflict,
    ServiceUnavailable,
    Internal,
}
