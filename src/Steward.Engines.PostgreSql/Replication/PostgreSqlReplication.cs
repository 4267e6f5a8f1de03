using System.Globalization;
using System.Text;
using Npgsql;
using Steward.Engines.PostgreSql.Wal;
using Steward.HighAvailability;

namespace Steward.Engines.PostgreSql.Replication;

/// <summary>
/// Streaming replication between the members of a highly available PostgreSQL instance. Every member gets
/// the same synchronous settings (<c>ANY 1 (node1, node2, node3)</c>), so whichever member is promoted
/// already requires the others' acknowledgement; standbys follow timeline switches (<c>latest</c>).
/// Replication connections authenticate with Steward's admin role through a passfile, never an argument.
/// </summary>
internal sealed class PostgreSqlReplication(PostgreSqlEngine engine) : IReplicationEngine
{
    public string ServiceId => PostgreSqlCatalog.ServiceId;

    public bool Synchronous => true;

    public bool UsersReplicate => true;

    public static string ReplicationConf(EngineContext member) => Path.Combine(member.Paths.ConfigDir, "replication.conf");

    private static string PassFile(EngineContext member) => Path.Combine(member.Paths.ConfigDir, "replication.pgpass");

    public async Task ConfigureMemberAsync(EngineContext member, ReplicationRole role, CancellationToken cancellationToken)
    {
        var primaryHost = role.PrimaryHost ?? member.Host;
        await WritePassFileAsync(member, primaryHost, cancellationToken);
        var names = string.Join(", ", role.SynchronousNames);
        var conf = new StringBuilder()
            .AppendLine("# Written by Steward: streaming replication of this highly available instance.")
            .AppendLine("hot_standby = on")
            .AppendLine("hot_standby_feedback = on")
            .AppendLine("wal_log_hints = on")
            .AppendLine("synchronous_commit = on")
            .AppendLine(CultureInfo.InvariantCulture, $"synchronous_standby_names = '{(role.SynchronousNames.Count == 0 ? string.Empty : $"ANY {role.Quorum} ({names})")}'")
            .AppendLine("wal_sender_timeout = '10s'")
            .AppendLine("wal_receiver_timeout = '10s'")
            .AppendLine("wal_receiver_status_interval = '1s'")
            .AppendLine("wal_retrieve_retry_interval = '200ms'")
            .AppendLine("recovery_target_timeline = 'latest'");
        if (role.PrimaryPort is { } primary)
        {
            conf.AppendLine(CultureInfo.InvariantCulture,
                $"primary_conninfo = 'host={primaryHost} port={primary} user={member.Instance.AdminUser} passfile={PassFile(member)} application_name={role.SlotName} connect_timeout=2'");
        }

        await member.Runtime.WriteFileAsync(ReplicationConf(member), conf.ToString(), cancellationToken);
        var signal = Path.Combine(member.Paths.DataDir, "standby.signal");
        if (role.IsStandby)
        {
            await member.Runtime.WriteFileAsync(signal, string.Empty, cancellationToken);
        }
        else
        {
            await member.Runtime.DeleteFileAsync(signal, cancellationToken);
        }
    }

    public async Task CloneAsync(EngineContext target, EngineContext source, CancellationToken cancellationToken)
    {
        await WritePassFileAsync(target, source.Host, cancellationToken);
        var result = await target.Runtime.RunToolAsync(
            target.Paths,
            Path.Combine(engine.BinDir, "pg_basebackup"),
            ["-h", source.Host, "-p", source.Port.ToString(CultureInfo.InvariantCulture), "-U", source.Instance.AdminUser, "-D", target.Paths.DataDir, "-X", "stream", "-c", "fast", "-w"],
            new Dictionary<string, string> { ["PGPASSFILE"] = PassFile(target), ["PGCONNECT_TIMEOUT"] = "5" },
            cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"pg_basebackup from port {source.Port} failed with exit code {result.ExitCode}: {string.Join(" | ", result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).TakeLast(5))}");
        }
    }

    public async Task<MemberObservation> ObserveAsync(EngineContext member, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(member, "postgres", cancellationToken);
        MemberObservation observation;
        await using (var cmd = new NpgsqlCommand(
            """
            SELECT pg_is_in_recovery(),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_flush_lsn()::text END,
                   pg_last_wal_receive_lsn()::text,
                   pg_last_wal_replay_lsn()::text,
                   CASE WHEN pg_is_in_recovery()
                        THEN GREATEST((SELECT max(received_tli) FROM pg_stat_wal_receiver), (pg_control_checkpoint()).timeline_id,
                                      (SELECT max(('x' || substr(name, 1, 8))::bit(32)::int) FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}\.history$'))
                        ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END
            """,
            conn))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            await r.ReadAsync(cancellationToken);
            observation = new MemberObservation(
                r.GetBoolean(0),
                r.IsDBNull(4) ? 0 : Convert.ToInt64(r.GetValue(4), CultureInfo.InvariantCulture),
                Lsn.Parse(r.IsDBNull(1) ? null : r.GetString(1)),
                Lsn.Parse(r.IsDBNull(2) ? null : r.GetString(2)),
                Lsn.Parse(r.IsDBNull(3) ? null : r.GetString(3)));
        }

        if (observation.InRecovery)
        {
            return observation;
        }

        var replicas = new List<ReplicaObservation>();
        await using (var cmd = new NpgsqlCommand("SELECT application_name, state, sync_state, flush_lsn::text, replay_lsn::text FROM pg_stat_replication ORDER BY application_name", conn))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            while (await r.ReadAsync(cancellationToken))
            {
                replicas.Add(new ReplicaObservation(
                    r.GetString(0),
                    r.IsDBNull(1) ? "unknown" : r.GetString(1),
                    r.IsDBNull(2) ? "unknown" : r.GetString(2),
                    Lsn.Parse(r.IsDBNull(3) ? null : r.GetString(3)),
                    Lsn.Parse(r.IsDBNull(4) ? null : r.GetString(4))));
            }
        }

        return observation with { Replicas = replicas };
    }

    public async Task PromoteAsync(EngineContext member, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(member, "postgres", cancellationToken);
        bool inRecovery;
        await using (var recovery = new NpgsqlCommand("SELECT pg_is_in_recovery()", conn))
        {
            inRecovery = await recovery.ExecuteScalarAsync(cancellationToken) is true;
        }

        if (inRecovery)
        {
            await using var promote = new NpgsqlCommand("SELECT pg_promote(true, 60)", conn);
            if (await promote.ExecuteScalarAsync(cancellationToken) is not true)
            {
                throw new InvalidOperationException($"the standby on port {member.Port} did not finish its promotion within 60 s");
            }
        }

        // Also when it was promoted already: a broker killed between the promotion and this step finishes it here.
        // A server's refusal does not stop the failover: the archive's gap check would show the segment missing.
        try
        {
            await EndOfTimelineArchiving.MarkAsync(conn, cancellationToken);
        }
        catch (PostgresException)
        {
        }
    }

    public async Task ReloadAsync(EngineContext member, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(member, "postgres", cancellationToken);
        await using var reload = new NpgsqlCommand("SELECT pg_reload_conf()", conn);
        await reload.ExecuteNonQueryAsync(cancellationToken);
    }

    public async Task<PendingSettings> PendingSettingsAsync(EngineContext member, CancellationToken cancellationToken)
    {
        // pg_file_settings reads the files afresh and says which entry the running server could not apply: a
        // postmaster-context setting with a new value (pending_restart says the same only once a reload was processed).
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(member, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand(
            """
            SELECT s.name,
                   CASE WHEN s.name IN ('max_connections', 'max_worker_processes', 'max_wal_senders', 'max_prepared_transactions', 'max_locks_per_transaction')
                             AND f.setting ~ '^[0-9]+$'
                        THEN f.setting::bigint < s.setting::bigint ELSE false END
            FROM pg_settings s LEFT JOIN pg_file_settings f ON f.name = s.name AND f.error IS NOT NULL
            WHERE (s.context = 'postmaster' AND f.error IS NOT NULL) OR s.pending_restart
            ORDER BY s.name
            """,
            conn);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        var restart = new List<string>();
        var lowered = new List<string>();
        while (await r.ReadAsync(cancellationToken))
        {
            restart.Add(r.GetString(0));
            if (!r.IsDBNull(1) && r.GetBoolean(1))
            {
                lowered.Add(r.GetString(0));
            }
        }

        return restart.Count == 0 ? PendingSettings.None : new PendingSettings(restart.Distinct().ToList(), lowered.Distinct().ToList());
    }

    public async Task<ulong?> StoppedPositionAsync(EngineContext member, CancellationToken cancellationToken)
    {
        var result = await member.Runtime.RunToolAsync(member.Paths, Path.Combine(engine.BinDir, "pg_controldata"), [member.Paths.DataDir], null, cancellationToken);
        if (!result.Succeeded)
        {
            return null;
        }

        var line = result.Output.Split('\n').FirstOrDefault(l => l.StartsWith("Latest checkpoint location:", StringComparison.Ordinal));
        return line is null ? null : Lsn.Parse(line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
    }

    /// <summary>The member's replication passfile, for connections to <paramref name="host"/> (its primary, or the member it is cloned from).</summary>
    private static Task WritePassFileAsync(EngineContext member, string host, CancellationToken cancellationToken)
    {
        return member.Runtime.WriteFileAsync(PassFile(member), PgPassFile.Line(member.Instance.AdminUser, member.Instance.AdminPassword, host), cancellationToken);
    }
}
