using Steward.Errors;

namespace Steward.Server.Http;

/// <summary>The OSB error object.</summary>
internal sealed record OsbErrorBody(string Error, string Description)
{
    public bool? InstanceUsable { get; init; }

    public bool? UpdateRepeatable { get; init; }

    public static IResult From(StewardException ex) =>
        OsbJson.Result(
            new OsbErrorBody(ErrorCodeMapping.OsbError(ex.Code), ex.Message) { InstanceUsable = ex.InstanceUsable, UpdateRepeatable = ex.UpdateRepeatable },
            ErrorCodeMapping.HttpStatus(ex.Code));
}
