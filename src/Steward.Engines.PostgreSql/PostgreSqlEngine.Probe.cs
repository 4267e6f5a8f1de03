using Npgsql;
using Steward.Runtime;

namespace Steward.Engines.PostgreSql;

/// <summary>
/// The health check. Every check proves the server answers a query (on a new connection; the supervisor's recurring
/// check holds one between checks, PostgreSqlEngine.Check.cs) and, on a primary, that it
/// accepts writes (not in recovery, not read-only). The heartbeat commit, which proves a transaction can actually
/// commit (disk, WAL, synchronous standbys), costs WAL: on an instance nobody writes to, a commit every check meant a
/// 16 MiB segment archived every <c>archive_timeout</c> (2 880 a day) for nothing. So the heartbeat is committed at
/// every check only while others write (their WAL is archived anyway), after a server start, and otherwise once per
/// <see cref="PostgreSqlEngineOptions.HeartbeatInterval"/>. A primary with synchronous standbys commits at every check. "Others write" is read from transaction ids, not from the
/// WAL position: segment switches and checkpoints move the position on an idle server, transaction ids do not.
/// </summary>
public sealed partial class PostgreSqlEngine
{
    private readonly TimeSpan _heartbeatInterval;

    public async Task ProbeAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await OpenAdminAsync(context, "postgres", cancellationToken, CheckApplicationName);
        await ProbeOnAsync(conn, cancellationToken);
    }

    /// <summary>The check on an open connection to the server's <c>postgres</c> database as its administrator.</summary>
    private async Task ProbeOnAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        await using var state = new NpgsqlCommand(
            "SELECT pg_is_in_recovery(), current_setting('transaction_read_only'), to_regclass('public.steward_heartbeat') IS NOT NULL, "
            + "current_setting('synchronous_standby_names') <> ''", conn);
        bool inRecovery, readOnly, table, synchronous;
        await using (var r = await state.ExecuteReaderAsync(cancellationToken))
        {
            await r.ReadAsync(cancellationToken);
            (inRecovery, readOnly, table, synchronous) = (r.GetBoolean(0), r.GetString(1) == "on", r.GetBoolean(2), r.GetBoolean(3));
        }

        if (inRecovery)
        {
            return;
        }

        if (readOnly)
        {
            // A primary that refuses every write answers reads fine: checked at every check, without a commit.
            throw new InvalidOperationException("the primary is read-only (default_transaction_read_only is on): it refuses every write");
        }

        // With synchronous standbys a commit completes only when enough of them acknowledge it, which nothing but a
        // commit proves: the primary of an ha instance commits at every check, as before.
        if (!table || synchronous || await HeartbeatDueAsync(conn, cancellationToken))
        {
            // A primary must also commit: a server that answers reads but cannot commit is not healthy.
            await ExecuteAsync(conn, "CREATE TABLE IF NOT EXISTS steward_heartbeat (id int PRIMARY KEY, at timestamptz NOT NULL); "
                + "INSERT INTO steward_heartbeat VALUES (1, now()) ON CONFLICT (id) DO UPDATE SET at = excluded.at", cancellationToken);
        }
    }

    /// <summary>
    /// Whether the heartbeat is to be committed now: some transaction other than the last heartbeat took a transaction
    /// id since it (the next id is not the heartbeat row's xmin + 1), the server started after it, or it is older than
    /// the interval. All read from the server itself (its clock, its counters), so a broker restart changes nothing.
    /// </summary>
    private async Task<bool> HeartbeatDueAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        if (_heartbeatInterval <= TimeSpan.Zero)
        {
            return true;
        }

        await using var cmd = new NpgsqlCommand(
            """
            SELECT (pg_snapshot_xmax(pg_current_snapshot())::text::numeric % 4294967296)::bigint <> (xmin::text::bigint + 1) % 4294967296
                   OR at < pg_postmaster_start_time()
                   OR now() - at >= make_interval(secs => @interval)
            FROM steward_heartbeat WHERE id = 1
            """,
            conn);
        cmd.Parameters.AddWithValue("interval", _heartbeatInterval.TotalSeconds);
        return await cmd.ExecuteScalarAsync(cancellationToken) is not false;
    }
}
