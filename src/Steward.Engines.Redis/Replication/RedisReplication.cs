using System.Globalization;
using System.Text;
using Steward.Engines.Redis.Resp;
using Steward.HighAvailability;

namespace Steward.Engines.Redis.Replication;

/// <summary>
/// Replication between the members of a highly available Redis instance: one master, the others its replicas
/// (<c>replicaof</c>), each its own redis-server. Redis replication is asynchronous; <c>min-replicas-to-write</c>
/// makes a master that has lost every replica refuse writes within <see cref="MaxLagSeconds"/>, so an isolated
/// master cannot keep taking writes that no replica will ever see. Replicas authenticate to the master as
/// Steward's admin user, from the member's configuration file (0600), never a command line.
/// </summary>
internal sealed class RedisReplication(RedisEngine engine) : IReplicationEngine
{
    /// <summary>
    /// How many seconds without an acknowledgement (replicas send one every second) before the master counts a
    /// replica as gone. Above 1–2 s so a busy machine does not refuse writes spuriously.
    /// </summary>
    public const int MaxLagSeconds = 3;

    public string ServiceId => RedisCatalog.ServiceId;

    public bool Synchronous => false;

    public bool UsersReplicate => false;

    public static string ReplicationConf(EngineContext member) => Path.Combine(member.Paths.ConfigDir, "replication.conf");

    public Task ConfigureMemberAsync(EngineContext member, ReplicationRole role, CancellationToken cancellationToken)
    {
        var conf = new StringBuilder()
            .AppendLine("# Written by Steward: replication of this highly available instance.")
            .AppendLine(CultureInfo.InvariantCulture, $"masteruser {Quote(member.Instance.AdminUser)}")
            .AppendLine(CultureInfo.InvariantCulture, $"masterauth {Quote(member.Instance.AdminPassword)}")
            .AppendLine("replica-read-only yes")
            .AppendLine("replica-serve-stale-data yes")
            .AppendLine(CultureInfo.InvariantCulture, $"min-replicas-to-write {MinReplicas(role)}")
            .AppendLine(CultureInfo.InvariantCulture, $"min-replicas-max-lag {MaxLagSeconds}")
            .AppendLine("repl-timeout 10");
        if (role.PrimaryPort is { } primary)
        {
            conf.AppendLine(CultureInfo.InvariantCulture, $"replicaof {role.PrimaryHost ?? member.Host} {primary}");
        }

        return member.Runtime.WriteFileAsync(ReplicationConf(member), conf.ToString(), cancellationToken);
    }

    /// <summary>A replica needs no copy of the data beforehand: it fetches a full snapshot from the master at its
    /// first connection. Only its users file (Steward's admin user) is written.</summary>
    public Task CloneAsync(EngineContext target, EngineContext source, CancellationToken cancellationToken) =>
        engine.InitializeAsync(target, cancellationToken);

    public async Task<MemberObservation> ObserveAsync(EngineContext member, CancellationToken cancellationToken)
    {
        await using var conn = await AdminAsync(member, cancellationToken);
        var info = Parse((await conn.ExecuteAsync(["INFO", "replication"], cancellationToken)).AsText() ?? string.Empty);
        var role = info.GetValueOrDefault("role");
        if (role == "slave")
        {
            var offset = Offset(info.GetValueOrDefault("slave_repl_offset"));
            var up = info.GetValueOrDefault("master_link_status") == "up";
            return new MemberObservation(true, 1, null, up ? offset : null, offset);
        }

        if (role != "master")
        {
            throw new RespException($"INFO replication named no role ({role ?? "none"})");
        }

        var replicas = new List<ReplicaObservation>();
        foreach (var (key, value) in info.Where(kv => kv.Key.StartsWith("slave", StringComparison.Ordinal) && char.IsDigit(kv.Key[^1])))
        {
            var fields = value.Split(',').Select(f => f.Split('=', 2)).Where(f => f.Length == 2).ToDictionary(f => f[0], f => f[1], StringComparer.Ordinal);
            var port = int.TryParse(fields.GetValueOrDefault("port"), CultureInfo.InvariantCulture, out var p) ? p : (int?)null;
            var acked = Offset(fields.GetValueOrDefault("offset"));
            replicas.Add(new ReplicaObservation(
                $"{fields.GetValueOrDefault("ip")}:{port}",
                fields.GetValueOrDefault("state") == "online" ? "streaming" : fields.GetValueOrDefault("state") ?? "unknown",
                "async",
                acked,
                acked) { Port = port });
        }

        return new MemberObservation(false, 1, Offset(info.GetValueOrDefault("master_repl_offset")), null, null) { Replicas = replicas };
    }

    /// <summary>The instance's own parameters in redis.conf that a running server takes with CONFIG SET (all of them).</summary>
    private static readonly string[] Parameters = ["maxmemory-policy", "appendonly"];

    /// <summary>Applies the file <see cref="ConfigureMemberAsync"/> wrote to the running server: the write quorum, and
    /// for a replica the master it follows; and the instance's parameters from redis.conf (CONFIG SET, no restart). A
    /// member written as a master is never promoted here (only <see cref="PromoteAsync"/> does that).</summary>
    public async Task ReloadAsync(EngineContext member, CancellationToken cancellationToken)
    {
        await using (var parameters = await AdminAsync(member, cancellationToken))
        {
            foreach (var (name, value) in FileParameters(member))
            {
                await parameters.ExecuteAsync(["CONFIG", "SET", name, value], cancellationToken);
            }
        }

        var settings = File.ReadAllLines(ReplicationConf(member))
            .Where(l => l.Length > 0 && l[0] != '#')
            .Select(l => l.Split(' ', 2))
            .ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal);
        await using var conn = await AdminAsync(member, cancellationToken);
        foreach (var name in new[] { "min-replicas-to-write", "min-replicas-max-lag", "repl-timeout" })
        {
            await conn.ExecuteAsync(["CONFIG", "SET", name, settings[name]], cancellationToken);
        }

        if (settings.TryGetValue("replicaof", out var master))
        {
            var hostPort = master.Split(' ');
            await conn.ExecuteAsync(["REPLICAOF", hostPort[0], hostPort[1]], cancellationToken);
        }
    }

    public async Task<PendingSettings> PendingSettingsAsync(EngineContext member, CancellationToken cancellationToken)
    {
        await using var conn = await AdminAsync(member, cancellationToken);
        var differing = new List<string>();
        foreach (var (name, value) in FileParameters(member))
        {
            var reply = await conn.ExecuteAsync(["CONFIG", "GET", name], cancellationToken);
            if (reply is not RespValue.Array { Items: [_, var running] } || running.AsText() != value)
            {
                differing.Add(name);
            }
        }

        return differing.Count == 0 ? PendingSettings.None : new PendingSettings(differing, []);
    }

    private static IEnumerable<(string Name, string Value)> FileParameters(EngineContext member) =>
        File.ReadAllLines(Path.Combine(member.Paths.ConfigDir, "redis.conf"))
            .Select(l => l.Split(' ', 2))
            .Where(p => p.Length == 2 && Parameters.Contains(p[0]))
            .Select(p => (p[0], p[1].Trim()));

    /// <summary>
    /// The replication offset a cleanly stopped master reached, minus one (the position of its last byte, so a
    /// replica holding all of it is past it), from the <c>repl-offset</c> field of the snapshot Redis writes at
    /// shutdown after waiting for its replicas to catch up.
    /// </summary>
    public Task<ulong?> StoppedPositionAsync(EngineContext member, CancellationToken cancellationToken)
    {
        var file = Path.Combine(member.Paths.DataDir, "dump.rdb");
        return Task.FromResult(File.Exists(file) && RdbAux.Read(file).TryGetValue("repl-offset", out var text)
            && ulong.TryParse(text, CultureInfo.InvariantCulture, out var offset) && offset > 0
            ? offset - 1
            : (ulong?)null);
    }

    public async Task PromoteAsync(EngineContext member, CancellationToken cancellationToken)
    {
        await using var conn = await AdminAsync(member, cancellationToken);
        if (await IsMasterAsync(conn, cancellationToken))
        {
            return;
        }

        await conn.ExecuteAsync(["REPLICAOF", "NO", "ONE"], cancellationToken);
        for (var i = 0; i < 100 && !await IsMasterAsync(conn, cancellationToken); i++)
        {
            await Task.Delay(20, cancellationToken);
        }

        if (!await IsMasterAsync(conn, cancellationToken))
        {
            throw new InvalidOperationException($"the replica on port {member.Port} is still a replica after REPLICAOF NO ONE");
        }
    }

    private static int MinReplicas(ReplicationRole role) => role.SynchronousNames.Count == 0 ? 0 : role.Quorum;

    private static async Task<bool> IsMasterAsync(RespConnection conn, CancellationToken cancellationToken) =>
        await conn.ExecuteAsync(["ROLE"], cancellationToken) is RespValue.Array { Items: [var role, ..] } && role.AsText() == "master";

    private static ulong? Offset(string? text) =>
        long.TryParse(text, CultureInfo.InvariantCulture, out var v) && v >= 0 ? (ulong)v : null;

    private static Dictionary<string, string> Parse(string info) =>
        info.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(l => !l.StartsWith('#') && l.Contains(':', StringComparison.Ordinal))
            .Select(l => l.Split(':', 2))
            .GroupBy(p => p[0], StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => g.First()[1], StringComparer.Ordinal);

    /// <summary>A value in redis.conf's quoting: double quotes, backslash escapes.</summary>
    private static string Quote(string value) =>
        "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\"";

    private static Task<RespConnection> AdminAsync(EngineContext context, CancellationToken cancellationToken) =>
        RespConnection.ConnectAsync(context.Host, context.Port, context.Instance.AdminUser, context.Instance.AdminPassword, cancellationToken);
}
