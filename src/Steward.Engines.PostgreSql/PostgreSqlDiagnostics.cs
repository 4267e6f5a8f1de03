using Steward.Supervision;

namespace Steward.Engines.PostgreSql;

/// <summary>What PostgreSQL's own log and data directory say about a failure.</summary>
internal static class PostgreSqlDiagnostics
{
    private static readonly LogPattern[] Patterns =
    [
        new(FailureClass.DiskFull, "No space left on device"),
        new(FailureClass.PortConflict, "Address already in use"),
        new(FailureClass.PortConflict, "could not create any TCP/IP sockets"),
        new(FailureClass.ConfigError, "invalid value for parameter"),
        new(FailureClass.ConfigError, "unrecognized configuration parameter"),
        new(FailureClass.ConfigError, "contains errors"),
        new(FailureClass.ConfigError, "syntax error in file"),
        new(FailureClass.ConfigError, "could not open configuration file"),
        new(FailureClass.ConfigError, "could not load pg_hba.conf"),
        new(FailureClass.DataCorruption, "pg_control"),
        new(FailureClass.DataCorruption, "could not find the database system"),
        new(FailureClass.DataCorruption, "could not locate a valid checkpoint record"),
        new(FailureClass.DataCorruption, "database files are incompatible"),
        new(FailureClass.DataCorruption, "invalid checksum"),
        new(FailureClass.DataCorruption, "invalid page in block"),
        new(FailureClass.DataCorruption, "PANIC:"),
    ];

    public static Diagnosis? Diagnose(string dataDir, IReadOnlyList<string> log) =>
        Diagnose(dataDir, log, paths => paths.FirstOrDefault(p => !File.Exists(p) && !Directory.Exists(p)));

    /// <summary>As above, with the files looked for where the server sees them (<paramref name="firstMissing"/>: the runtime's).</summary>
    public static Diagnosis? Diagnose(string dataDir, IReadOnlyList<string> log, Func<IReadOnlyList<string>, string?> firstMissing)
    {
        string[] required = ["PG_VERSION", Path.Combine("global", "pg_control")];
        var missing = firstMissing([dataDir, .. required.Select(r => Path.Combine(dataDir, r))]);
        if (missing == dataDir)
        {
            return new Diagnosis(FailureClass.DataCorruption, $"data directory {dataDir} is missing");
        }

        if (missing is not null)
        {
            return new Diagnosis(FailureClass.DataCorruption, $"{Path.GetRelativePath(dataDir, missing)} is missing from the data directory");
        }

        return LogPattern.Match(Patterns, log);
    }
}
