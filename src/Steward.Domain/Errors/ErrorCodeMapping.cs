namespace Steward.Errors;

/// <summary>The one place where a domain error code becomes an HTTP status and an OSB <c>error</c> field.</summary>
public static class ErrorCodeMapping
{
    /// <summary>HTTP status code for an error code.</summary>
    public static int HttpStatus(ErrorCode code) => code switch
    {
        ErrorCode.BadRequest => 400,
        ErrorCode.Unauthorized => 401,
        ErrorCode.Forbidden => 403,
        ErrorCode.NotFound => 404,
        ErrorCode.Conflict => 409,
        ErrorCode.Gone => 410,
        ErrorCode.PreconditionFailed => 412,
        ErrorCode.PayloadTooLarge => 413,
        ErrorCode.UnsupportedMediaType => 415,
        ErrorCode.AsyncRequired or ErrorCode.ConcurrencyError or ErrorCode.MaintenanceInfoConflict => 422,
        ErrorCode.ServiceUnavailable => 503,
        _ => 500,
    };

    /// <summary>The OSB <c>error</c> string: the spec's names where it defines one, otherwise a stable CamelCase name.</summary>
    public static string OsbError(ErrorCode code) => code switch
    {
        ErrorCode.AsyncRequired => "AsyncRequired",
        ErrorCode.ConcurrencyError => "ConcurrencyError",
        ErrorCode.MaintenanceInfoConflict => "MaintenanceInfoConflict",
        _ => code.ToString(),
    };
}
