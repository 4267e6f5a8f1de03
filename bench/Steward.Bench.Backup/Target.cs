using System.Text.Json;
using Steward.Security;
using Steward.State.Sqlite;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Backup;

/// <summary>One provisioned PostgreSQL instance loaded with pgbench data, and what the baselines need to reach it.</summary>
internal sealed record Target(string Id, int Port, string DataDir, string AdminUser, string AdminPassword, string Recipient, string IdentityFile, long DatabaseBytes, long ClusterBytes)
{
    public const string PgBin = "/usr/lib/postgresql/15/bin";

    public IReadOnlyDictionary<string, string> AdminEnvironment => new Dictionary<string, string> { ["PGPASSWORD"] = AdminPassword, ["PGHOST"] = "127.0.0.1", ["PGPORT"] = Port.ToString(System.Globalization.CultureInfo.InvariantCulture) };

    public static async Task<Target> CreateAsync(StewardServer server, string id, int scale, CancellationToken ct)
    {
        var osb = server.Client;
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
        var credentials = await osb.BindReadyAsync(id, "bench-" + id, Catalogs.PostgreSql, Catalogs.PostgreSqlLarge);
        var uri = credentials.GetProperty("uri").GetString()!;
        var instance = (await osb.ApiAsync($"/instances/{id}")).Body;
        var port = instance.GetProperty("port").GetInt32();
        var dataDir = Path.Combine(instance.GetProperty("directory").GetString()!, "data");

        Console.WriteLine($"loading pgbench scale {scale} into {id} (port {port})...");
        var load = await Shell.TimeAsync($"{PgBin}/pgbench -i -q -I dtGvp -s {scale} {Shell.Quote(uri)}", null, ct);
        Console.WriteLine($"  loaded in {load.WallSeconds:F1} s");

        // The state database keeps the administrator's password sealed with the broker's credential key.
        var store = new SqliteStateStore(Path.Combine(server.DataDir, "steward.db"), CredentialKey.LoadOrCreate(Path.Combine(server.DataDir, CredentialKey.FileName)));
        var record = await store.GetInstanceAsync(id, ct) ?? throw new InvalidOperationException($"instance {id} is not in the state database");
        var (user, password) = (record.AdminUser, record.AdminPassword);
        var identityFile = Path.Combine(server.DataDir, "backup-identity.txt");
        var recipient = File.ReadLines(identityFile).First(l => l.StartsWith("# public key: ", StringComparison.Ordinal))["# public key: ".Length..].Trim();
        var target = new Target(id, port, dataDir, user, password, recipient, identityFile, 0, 0);
        var sizes = await Shell.RunAsync($"{PgBin}/psql -d app -U {user} -Atc \"SELECT pg_database_size('app'), (SELECT sum(pg_database_size(oid)) FROM pg_database)\"", target.AdminEnvironment, ct);
        var parts = sizes.Split('|');
        return target with { DatabaseBytes = long.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture), ClusterBytes = long.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) };
    }

    /// <summary>A checkpoint, so every tool starts from the same clean state instead of paying for the load's dirty pages.</summary>
    public Task CheckpointAsync(CancellationToken ct) =>
        Shell.RunAsync($"{PgBin}/psql -d app -U {AdminUser} -Atc CHECKPOINT", AdminEnvironment, ct);
}

internal static class Json
{
    public static double? Number(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.Number ? v.GetDouble() : null;

    public static string? Text(this JsonElement e, string name) =>
        e.ValueKind == JsonValueKind.Object && e.TryGetProperty(name, out var v) && v.ValueKind == JsonValueKind.String ? v.GetString() : null;
}
