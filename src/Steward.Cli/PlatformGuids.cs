namespace Steward.Cli;

/// <summary>
/// The organization_guid and space_guid OSB v2.17 requires on every provision. The CLI is its own platform:
/// <c>--organization</c>/<c>--space</c>, else STEWARD_ORGANIZATION/STEWARD_SPACE, else "steward"/"default".
/// A re-run of <c>steward create</c> for an existing id must send the same values (else 409).
/// </summary>
internal sealed record PlatformGuids(string Organization, string Space)
{
    public static PlatformGuids From(string? organization, string? space) => new(
        Pick(organization, "STEWARD_ORGANIZATION", "steward"),
        Pick(space, "STEWARD_SPACE", "default"));

    private static string Pick(string? given, string variable, string fallback) =>
        !string.IsNullOrEmpty(given) ? given
        : Environment.GetEnvironmentVariable(variable) is { Length: > 0 } fromEnvironment ? fromEnvironment
        : fallback;
}
