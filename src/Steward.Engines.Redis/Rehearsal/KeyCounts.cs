using System.Globalization;
using System.Text.Json;
using Steward.Engines.Redis.Resp;

namespace Steward.Engines.Redis.Rehearsal;

/// <summary>Keys per database, from <c>INFO keyspace</c>; recorded in an RDB backup's manifest before and after it, compared by a rehearsal.</summary>
internal static class KeyCounts
{
    /// <summary>The manifest property: <c>{"db0": [keys before, keys after]}</c>.</summary>
    public const string Property = "key_counts";

    public static async Task<Dictionary<string, long>> CountAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await RespConnection.ConnectAsync(context.Host, context.Port, context.Instance.AdminUser, context.Instance.AdminPassword, cancellationToken);
        var info = (await conn.ExecuteAsync(["INFO", "keyspace"], cancellationToken)).AsText() ?? string.Empty;
        var counts = new Dictionary<string, long>(StringComparer.Ordinal);
        foreach (var line in info.Split('\n', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var colon = line.IndexOf(':', StringComparison.Ordinal);
            if (line.StartsWith("db", StringComparison.Ordinal) && colon > 0)
            {
                var keys = line[(colon + 1)..].Split(',').FirstOrDefault(f => f.StartsWith("keys=", StringComparison.Ordinal));
                counts[line[..colon]] = keys is null ? 0 : long.Parse(keys["keys=".Length..], CultureInfo.InvariantCulture);
            }
        }

        return counts;
    }

    public static string Serialize(Dictionary<string, long> before, Dictionary<string, long> after) =>
        JsonSerializer.Serialize(before.Keys.Union(after.Keys).Order(StringComparer.Ordinal).ToDictionary(db => db, db => new[] { before.GetValueOrDefault(db), after.GetValueOrDefault(db) }));

    public static Dictionary<string, long[]>? Parse(string? json) => json is null ? null : JsonSerializer.Deserialize<Dictionary<string, long[]>>(json);
}
