using Steward.Errors;

namespace Steward.Domain.Tests.Errors;

public sealed class ErrorCodeMappingTests
{
    [Theory]
    [InlineData(ErrorCode.BadRequest, 400, "BadRequest")]
    [InlineData(ErrorCode.Unauthorized, 401, "Unauthorized")]
    [InlineData(ErrorCode.NotFound, 404, "NotFound")]
    [InlineData(ErrorCode.Conflict, 409, "Conflict")]
    [InlineData(ErrorCode.Gone, 410, "Gone")]
    [InlineData(ErrorCode.PreconditionFailed, 412, "PreconditionFailed")]
    [InlineData(ErrorCode.PayloadTooLarge, 413, "PayloadTooLarge")]
    [InlineData(ErrorCode.AsyncRequired, 422, "AsyncRequired")]
    [InlineData(ErrorCode.ConcurrencyError, 422, "ConcurrencyError")]
    [InlineData(ErrorCode.MaintenanceInfoConflict, 422, "MaintenanceInfoConflict")]
    [InlineData(ErrorCode.Internal, 500, "Internal")]
    public void Each_code_has_the_status_and_OSB_error_the_spec_names(ErrorCode code, int status, string error)
    {
        ErrorCodeMapping.HttpStatus(code).ShouldBe(status);
        ErrorCodeMapping.OsbError(code).ShouldBe(error);
    }

    [Fact]
    public void Every_code_is_mapped_to_a_client_or_server_error()
    {
        foreach (var code in Enum.GetValues<ErrorCode>())
        {
            ErrorCodeMapping.HttpStatus(code).ShouldBeInRange(400, 599);
        }
    }
}
