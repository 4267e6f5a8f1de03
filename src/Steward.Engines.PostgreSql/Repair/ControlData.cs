
namespace Steward.Engines.PostgreSql.Repair;

/// <summary>
/// What <c>pg_controldata</c> says about a stopped cluster: whether it was shut down cleanly and where its last
/// checkpoint is. After a clean shutdown the checkpoint is the last WAL record the server wrote: a copy that has
/// replayed past it is exactly where the server stopped.
/// </summary>
public sealed record ControlData(string State, long CheckpointLsn, long RedoLsn, int Timeline, bool Checksums)
{
    /// <summary>Shut down cleanly: nothing after the checkpoint, nothing for crash recovery to replay.</summary>
    public bool CleanlyShutDown => State == "shut down";

    /// <summary>Shut down while in recovery (a standby's clean stop).</summary>
    public bool ShutDownInRecovery => State == "shut down in recovery";

    public static async Task<ControlData> ReadAsync(PostgreSqlEngine engine, EngineContext context, string dataDir, CancellationToken cancellationToken)
    {
        var result = await context.Runtime.RunToolAsync(context.Paths, Path.Combine(engine.BinDir, "pg_controldata"), ["-D", dataDir], new Dictionary<string, string> { ["LC_ALL"] = "C" }, cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_controldata -D {dataDir} failed (exit {result.ExitCode}): {result.Output.Trim()}");
        }

        return Parse(result.Output);
    }

    public static ControlData Parse(string output)
    {
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (colon > 0)
            {
                fields[line[..colon].Trim()] = line[(colon + 1)..].Trim();
            }
        }

        string Field(string name) => fields.TryGetValue(name, out var v) ? v : throw new InvalidOperationException($"pg_controldata printed no '{name}'");
        return new ControlData(
            Field("Database cluster state"),
            Steward.Wal.Lsn.Parse(Field("Latest checkpoint location")),
            Steward.Wal.Lsn.Parse(Field("Latest checkpoint's REDO location")),
            int.Parse(Field("Latest checkpoint's TimeLineID"), System.Globalization.CultureInfo.InvariantCulture),
            Field("Data page checksum version") != "0");
    }
}
