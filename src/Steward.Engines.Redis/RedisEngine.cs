using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Steward.Catalog;
using Steward.Engines.Redis.Resp;
using Steward.Instances;
using Steward.Runtime;
using Steward.Supervision;

namespace Steward.Engines.Redis;

/// <summary>
/// Runs each instance as its own redis-server. Users live in an ACL file: the default user is disabled,
/// Steward keeps an admin user, and each binding is an ACL user of its own.
/// </summary>
public sealed partial class RedisEngine : IDataServiceEngine, IDataRescue
{
    private readonly RedisEngineOptions _options;
    private readonly TimeProvider _time;
    private readonly HeldCheckConnections<RespConnection> _checkConnections;

    public RedisEngine(RedisEngineOptions options, TimeProvider? time = null)
    {
        _options = options;
        _time = time ?? TimeProvider.System;
        _checkConnections = new HeldCheckConnections<RespConnection>(options.CheckReconnectInterval, _time);
        Unavailable = File.Exists(options.ServerPath)
            ? null
            : $"redis-server not found at {options.ServerPath}; install it with: apt-get install redis-server, or set STEWARD_REDIS_BIN_DIR";
    }

    public ServiceOffering Offering => RedisCatalog.Offering;

    public string? Unavailable { get; }

    public Task InitializeAsync(EngineContext context, CancellationToken cancellationToken) =>
        context.Runtime.WriteFileAsync(
            AclFile(context),
            $"user default off\nuser {context.Instance.AdminUser} on #{Sha256Hex(context.Instance.AdminPassword)} ~* &* +@all\n",
            cancellationToken);

    public Task ConfigureAsync(EngineContext context, CancellationToken cancellationToken)
    {
        var p = new ParameterValues(context.Instance.ParametersJson);
        var limits = context.Plan.Limits;
        var conf = new StringBuilder()
            .AppendLine("# Written by Steward for this instance; changes are overwritten on update.")
            .AppendLine(CultureInfo.InvariantCulture, $"bind {context.Runtime.ListenAddress}")
            .AppendLine(CultureInfo.InvariantCulture, $"port {context.Port}")
            // Beyond loopback (a pod), protected mode would refuse every remote client; the default user is off, so
            // nobody gets in without an ACL user's password either way.
            .AppendLine(context.Runtime.ListenAddress == "127.0.0.1" ? "protected-mode yes" : "protected-mode no")
            .AppendLine("daemonize no")
            .AppendLine(CultureInfo.InvariantCulture, $"dir {context.Paths.DataDir}")
            .AppendLine("dbfilename dump.rdb")
            .AppendLine(CultureInfo.InvariantCulture, $"appendonly {((p.Boolean("appendonly") ?? false) ? "yes" : "no")}")
            .AppendLine(CultureInfo.InvariantCulture, $"maxmemory {limits.MemoryMb}mb")
            .AppendLine(CultureInfo.InvariantCulture, $"maxmemory-policy {p.String("maxmemory_policy") ?? "noeviction"}")
            // One more than the plan's clients: the supervisor's check holds one connection (RedisEngine.Check.cs).
            .AppendLine(CultureInfo.InvariantCulture, $"maxclients {limits.MaxConnections + 1}")
            .AppendLine(CultureInfo.InvariantCulture, $"aclfile {AclFile(context)}")
            .AppendLine("logfile \"\"")
            .AppendLine("save 3600 1 300 100 60 10000")
            // The supervisor re-points `dir` (CONFIG SET, a protected setting) to rescue the data of a server whose
            // data directory was removed; only local connections may, and bindings cannot use CONFIG at all.
            .AppendLine("enable-protected-configs local")
            // Disk-based sync sends an exact, length-prefixed RDB. Diskless sync ends the stream with an EOF mark
            // that redis-cli removes by truncating its output file, which it cannot do on a pipe (--rdb -).
            .AppendLine("repl-diskless-sync no");
        if (context.Plan.HighlyAvailable)
        {
            // The member's replication settings (master or replica of whom), written by the HA controller before every start.
            conf.AppendLine(CultureInfo.InvariantCulture, $"include {Path.Combine(context.Paths.ConfigDir, "replication.conf")}");
        }

        return context.Runtime.WriteFileAsync(Path.Combine(context.Paths.ConfigDir, "redis.conf"), conf.ToString(), cancellationToken);
    }

    public ProcessLaunch Launch(EngineContext context) =>
        new(_options.ServerPath, [Path.Combine(context.Paths.ConfigDir, "redis.conf")]) { StopSignal = 15 };

    public async Task ProbeAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await AdminAsync(context, cancellationToken);
        await ProbeOnAsync(conn, cancellationToken);
    }

    public Diagnosis? Diagnose(EngineContext context, IReadOnlyList<string> logSinceStart) =>
        RedisDiagnostics.Diagnose(context.Paths.DataDir, logSinceStart, context.Runtime.FirstMissing);

    public Task BootstrapAsync(EngineContext context, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>
    /// Re-points the server's <c>dir</c> to <paramref name="directory"/> and saves there (SAVE, in the
    /// foreground, so the file is complete when this returns). The server keeps serving from memory; a clean
    /// shutdown afterwards saves into the same directory again, with whatever was written in between.
    /// </summary>
    public async Task<string> RescueAsync(EngineContext context, string directory, CancellationToken cancellationToken)
    {
        await using var conn = await AdminAsync(context, cancellationToken);
        var keys = (await conn.ExecuteAsync(["DBSIZE"], cancellationToken)).AsText();
        await conn.ExecuteAsync(["CONFIG", "SET", "dir", directory], cancellationToken);
        await conn.ExecuteAsync(["SAVE"], cancellationToken);
        var file = Path.Combine(directory, "dump.rdb");
        return $"{keys} keys saved by SAVE to {file} (CONFIG SET dir re-pointed the running server to {directory})";
    }

    public async Task CreateCredentialsAsync(EngineContext context, ServiceBinding binding, CancellationToken cancellationToken)
    {
        var readOnly = new ParameterValues(binding.ParametersJson).Boolean("read_only") ?? false;
        string[] rules = readOnly ? ["~*", "&*", "-@all", "+@read", "+@connection"] : ["~*", "&*", "+@all", "-@admin"];
        await using var conn = await AdminAsync(context, cancellationToken);
        await conn.ExecuteAsync(["ACL", "SETUSER", binding.Username, "reset", "on", "#" + Sha256Hex(binding.Password), .. rules], cancellationToken);
        await conn.ExecuteAsync(["ACL", "SAVE"], cancellationToken);
    }

    public async Task RevokeCredentialsAsync(EngineContext context, ServiceBinding binding, CancellationToken cancellationToken)
    {
        await using var conn = await AdminAsync(context, cancellationToken);

        // Deleting an ACL user also closes every connection authenticated as it.
        await conn.ExecuteAsync(["ACL", "DELUSER", binding.Username], cancellationToken);
        await conn.ExecuteAsync(["ACL", "SAVE"], cancellationToken);
    }

    /// <summary>
    /// Redis users live in the ACL file beside the data, which a restore does not replace, and which a replica
    /// does not get from its master: the server ends up with exactly Steward's admin user and the given bindings
    /// (users of bindings revoked meanwhile are deleted, closing their connections).
    /// </summary>
    public async Task ReconcileCredentialsAsync(EngineContext context, IReadOnlyList<ServiceBinding> bindings, CancellationToken cancellationToken)
    {
        await using (var conn = await AdminAsync(context, cancellationToken))
        {
            var keep = bindings.Select(b => b.Username).Append(context.Instance.AdminUser).Append("default").ToHashSet(StringComparer.Ordinal);
            if (await conn.ExecuteAsync(["ACL", "USERS"], cancellationToken) is RespValue.Array { Items: { } users })
            {
                foreach (var stale in users.Select(u => u.AsText()).OfType<string>().Where(u => !keep.Contains(u)))
                {
                    await conn.ExecuteAsync(["ACL", "DELUSER", stale], cancellationToken);
                }

                await conn.ExecuteAsync(["ACL", "SAVE"], cancellationToken);
            }
        }

        foreach (var binding in bindings)
        {
            await CreateCredentialsAsync(context, binding, cancellationToken);
        }
    }

    public IReadOnlyDictionary<string, object> Credentials(EngineContext context, ServiceBinding binding) => new Dictionary<string, object>
    {
        ["uri"] = $"redis://{binding.Username}:{binding.Password}@{context.Host}:{context.Port}",
        ["host"] = context.Host,
        ["port"] = context.Port,
        ["username"] = binding.Username,
        ["password"] = binding.Password,
        ["read_only"] = new ParameterValues(binding.ParametersJson).Boolean("read_only") ?? false,
    };

    private static string AclFile(EngineContext context) => Path.Combine(context.Paths.ConfigDir, "users.acl");

    private static string Sha256Hex(string s) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(s)));

    private static Task<RespConnection> AdminAsync(EngineContext context, CancellationToken cancellationToken) =>
        RespConnection.ConnectAsync(context.Host, context.Port, context.Instance.AdminUser, context.Instance.AdminPassword, cancellationToken);
}
