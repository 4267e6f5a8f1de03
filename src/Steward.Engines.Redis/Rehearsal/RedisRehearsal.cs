using System.Globalization;
using System.Text.RegularExpressions;
using Steward.Engines.Redis.Resp;
using Steward.Rehearsals;

namespace Steward.Engines.Redis.Rehearsal;

/// <summary>
/// Redis's part of a restore rehearsal. Users live in the ACL file of the sandbox's own configuration, so the
/// instance's bindings never exist there. Checks: <c>redis-check-rdb</c> on the restored file, keys per database
/// against the backup's count, and the developer's key patterns (<c>PATTERN OP COUNT</c> per line, e.g.
/// <c>user:* &gt;= 1000</c>).
/// </summary>
public sealed partial class RedisRehearsal(RedisEngineOptions options) : IRehearsalEngine
{
    public string Service => "redis";

    public Task ConfigureSandboxAsync(EngineContext sandbox, EngineContext live, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IReadOnlyList<RehearsalCheck>> CheckFilesAsync(EngineContext sandbox, CancellationToken cancellationToken)
    {
        const string name = "redis-check-rdb";
        var rdb = Path.Combine(sandbox.Paths.DataDir, "dump.rdb");
        var tool = Path.Combine(Path.GetDirectoryName(options.ServerPath) ?? "/usr/bin", "redis-check-rdb");
        if (!File.Exists(tool))
        {
            return [RehearsalCheck.Skipped(name, $"{tool} not found (apt-get install redis-tools)")];
        }

        var (file, args) = LowPriority.Wrap(tool, [rdb]);
        var result = await sandbox.Runtime.RunToolAsync(sandbox.Paths, file, args, null, cancellationToken);
        var lines = result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var ok = result.Succeeded && lines.Any(l => l.Contains("RDB looks OK", StringComparison.Ordinal));
        var summary = string.Join(" | ", lines.Where(l => l.Contains("Checking RDB file", StringComparison.Ordinal) || l.Contains("keys read", StringComparison.Ordinal) || l.Contains("RDB looks OK", StringComparison.Ordinal) || l.Contains("--- RDB ERROR", StringComparison.Ordinal) || l.Contains("Unexpected EOF", StringComparison.Ordinal)).Select(Clean));
        return ok
            ? [RehearsalCheck.Pass(name, summary)]
            : [RehearsalCheck.Fail(name, $"redis-check-rdb failed (exit {result.ExitCode}): {string.Join(" | ", lines.TakeLast(8).Select(Clean))}")];
    }

    public Task SecureAsync(EngineContext sandbox, string restoredAdminPassword, CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task<IReadOnlyList<RehearsalCheck>> CheckRunningAsync(EngineContext sandbox, IReadOnlyDictionary<string, string> backupProperties, string? checkFile, CancellationToken cancellationToken)
    {
        var checks = new List<RehearsalCheck> { await CompareKeyCountsAsync(sandbox, backupProperties, cancellationToken) };
        if (checkFile is not null)
        {
            checks.Add(await DeveloperCheckAsync(sandbox, checkFile, cancellationToken));
        }

        return checks;
    }

    public Task<IReadOnlyList<RehearsalCheck>> CheckStoppedAsync(EngineContext sandbox, CancellationToken cancellationToken) =>
        Task.FromResult<IReadOnlyList<RehearsalCheck>>([]);

    public string? ValidateCheckFile(string checkFile)
    {
        var rules = Rules(checkFile, out var problem);
        return problem ?? (rules.Count == 0 ? "the check file has no rule; each line is PATTERN OP COUNT, e.g. user:* >= 1000 (OP one of = >= <= > <; # starts a comment)" : null);
    }

    private static async Task<RehearsalCheck> CompareKeyCountsAsync(EngineContext sandbox, IReadOnlyDictionary<string, string> backupProperties, CancellationToken cancellationToken)
    {
        const string name = "key counts";
        if (KeyCounts.Parse(backupProperties.GetValueOrDefault(KeyCounts.Property)) is not { } recorded)
        {
            return RehearsalCheck.Skipped(name, backupProperties.TryGetValue("key_counts_error", out var error)
                ? $"the backup could not record key counts when it was taken: {error}"
                : "the backup recorded no key counts (taken before Steward recorded them)");
        }

        var restored = await KeyCounts.CountAsync(sandbox, cancellationToken);
        var problems = new List<string>();
        var details = new Dictionary<string, object?>();
        foreach (var (db, range) in recorded)
        {
            var keys = restored.GetValueOrDefault(db);
            details[db] = new Dictionary<string, object?> { ["at_backup_start"] = range[0], ["at_backup_end"] = range[1], ["restored"] = keys };

            // The snapshot is taken between the two counts: with writes during the backup it lies in their range
            // only approximately (keys added and expired), so only an unchanged database is compared exactly.
            if (range[0] == range[1] && keys != range[1])
            {
                problems.Add($"{db} has {keys} keys, the backup's time {range[1]}");
            }
        }

        var total = restored.Values.Sum();
        return problems.Count == 0
            ? RehearsalCheck.Pass(name, $"{total} keys restored in {restored.Count} databases, as many as the backup held") with { Details = details }
            : RehearsalCheck.Fail(name, string.Join("; ", problems)) with { Details = details };
    }

    private static async Task<RehearsalCheck> DeveloperCheckAsync(EngineContext sandbox, string checkFile, CancellationToken cancellationToken)
    {
        const string name = "developer check";
        var rules = Rules(checkFile, out _);
        await using var conn = await RespConnection.ConnectAsync(sandbox.Host, sandbox.Port, sandbox.Instance.AdminUser, sandbox.Instance.AdminPassword, cancellationToken);
        var failed = new List<string>();
        var seen = new List<string>();
        foreach (var (pattern, op, expected) in rules)
        {
            long count = 0;
            var cursor = "0";
            do
            {
                var reply = await conn.ExecuteAsync(["SCAN", cursor, "MATCH", pattern, "COUNT", "1000"], cancellationToken);
                if (reply is not RespValue.Array { Items: [var next, RespValue.Array { Items: var keys }] })
                {
                    throw new RespException("SCAN did not answer with a cursor and keys");
                }

                cursor = next.AsText() ?? "0";
                count += keys?.Count ?? 0;
            }
            while (cursor != "0");

            var holds = op switch { "=" => count == expected, ">=" => count >= expected, "<=" => count <= expected, ">" => count > expected, _ => count < expected };
            (holds ? seen : failed).Add($"{pattern}: {count} keys (expected {op} {expected})");
        }

        return failed.Count == 0
            ? RehearsalCheck.Pass(name, string.Join("; ", seen))
            : RehearsalCheck.Fail(name, string.Join("; ", failed));
    }

    private static List<(string Pattern, string Op, long Count)> Rules(string checkFile, out string? problem)
    {
        problem = null;
        var rules = new List<(string, string, long)>();
        var number = 0;
        foreach (var raw in checkFile.Split('\n'))
        {
            number++;
            var line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#'))
            {
                continue;
            }

            if (Rule().Match(line) is not { Success: true } m || !long.TryParse(m.Groups[3].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var count))
            {
                problem = $"line {number} of the check file is not PATTERN OP COUNT (e.g. user:* >= 1000, OP one of = >= <= > <): {line}";
                return rules;
            }

            rules.Add((m.Groups[1].Value, m.Groups[2].Value, count));
        }

        return rules;
    }

    private static string Clean(string line) => Regex.Replace(line, @"^\[offset \d+\] ", string.Empty);

    [GeneratedRegex(@"^(\S+)\s+(>=|<=|=|>|<)\s+(\d+)$")]
    private static partial Regex Rule();
}
