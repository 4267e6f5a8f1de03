using Steward.Engines.PostgreSql.Repair;

namespace Steward.Engines.PostgreSql;

/// <summary>
/// Data checksums for clusters made without them (by a Steward from before they were on, or restored from such a
/// cluster's backup): <c>pg_checksums --enable</c> over the stopped data directory, as the service user.
/// </summary>
public sealed partial class PostgreSqlEngine : IDataChecksums
{
    public async Task<bool> ChecksumsEnabledAsync(EngineContext context, CancellationToken cancellationToken) =>
        (await ControlData.ReadAsync(this, context, context.Paths.DataDir, cancellationToken)).Checksums;

    public async Task EnableChecksumsAsync(EngineContext context, CancellationToken cancellationToken)
    {
        // pg_checksums refuses a cluster that is running or was not shut down cleanly, and an interrupted run leaves
        // checksums off (the control file is written last), so running it again is always safe.
        var result = await context.Runtime.RunToolAsync(
            context.Paths,
            Path.Combine(_binDir, "pg_checksums"),
            ["--enable", "--pgdata", context.Paths.DataDir],
            new Dictionary<string, string> { ["LC_ALL"] = "C" },
            cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_checksums --enable failed (exit {result.ExitCode}): {result.Output.Trim()}");
        }
    }
}
