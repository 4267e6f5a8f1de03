using Steward.Supervision;

namespace Steward.Engines.Redis;

/// <summary>What redis-server's own log and data directory say about a failure.</summary>
internal static class RedisDiagnostics
{
    private static readonly LogPattern[] Patterns =
    [
        new(FailureClass.DiskFull, "No space left on device"),
        new(FailureClass.PortConflict, "Address already in use"),
        new(FailureClass.ConfigError, "FATAL CONFIG FILE ERROR"),
        new(FailureClass.ConfigError, "Bad directive or wrong number of arguments"),
        new(FailureClass.ConfigError, "Error in user declaration"),
        new(FailureClass.ConfigError, "Aborting Redis startup"),
        new(FailureClass.DataCorruption, "Bad file format reading the append only file"),
        new(FailureClass.DataCorruption, "Wrong signature trying to load DB"),
        new(FailureClass.DataCorruption, "Short read or OOM loading DB"),
        new(FailureClass.DataCorruption, "Internal error in RDB reading"),
        new(FailureClass.DataCorruption, "Unrecoverable error"),
    ];

    public static Diagnosis? Diagnose(string dataDir, IReadOnlyList<string> log) =>
        Diagnose(dataDir, log, paths => paths.FirstOrDefault(p => !Directory.Exists(p)));

    /// <summary>As above, with the directory looked for where the server sees it (<paramref name="firstMissing"/>: the runtime's).</summary>
    public static Diagnosis? Diagnose(string dataDir, IReadOnlyList<string> log, Func<IReadOnlyList<string>, string?> firstMissing) =>
        firstMissing([dataDir]) is null
            ? LogPattern.Match(Patterns, log)
            : new Diagnosis(FailureClass.DataCorruption, $"data directory {dataDir} is missing");
}
