using System.Globalization;
using System.Text.RegularExpressions;
using Npgsql;
using Steward.Runtime;

namespace Steward.Engines.PostgreSql.Wal;

/// <summary>Reads archiving state from a running server and commit times from WAL segments.</summary>
public sealed partial class WalInspector(PostgreSqlEngine engine)
{
    /// <summary>The server's archiver state; null when it does not answer.</summary>
    public static async Task<WalStatus> StatusAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        return await StatusOnAsync(conn, cancellationToken);
    }

    /// <summary>The server's archiver state, read on an open connection to its <c>postgres</c> database as its administrator.</summary>
    public static async Task<WalStatus> StatusOnAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        await using var cmd = new NpgsqlCommand(
            """
            SELECT current_setting('archive_mode'), pg_is_in_recovery(), a.archived_count, a.last_archived_wal, a.last_archived_time,
                   a.failed_count, a.last_failed_wal, a.last_failed_time,
                   (SELECT count(*) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'),
                   (SELECT min(modification) FROM pg_ls_archive_statusdir() WHERE name LIKE '%.ready'),
                   CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_walfile_name(pg_current_wal_lsn()) END,
                   CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text ELSE pg_current_wal_lsn()::text END,
                   (SELECT timeline_id FROM pg_control_checkpoint()),
                   current_setting('wal_segment_size', true),
                   pg_postmaster_start_time()
            FROM pg_stat_archiver a
            """,
            conn);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        DateTimeOffset? Time(int i) => r.IsDBNull(i) ? null : new DateTimeOffset(r.GetDateTime(i).ToUniversalTime(), TimeSpan.Zero);
        string? Text(int i) => r.IsDBNull(i) ? null : r.GetString(i);
        return new WalStatus
        {
            ArchiveModeOn = r.GetString(0) is "on" or "always",
            InRecovery = r.GetBoolean(1),
            ArchivedCount = r.GetInt64(2),
            LastArchivedWal = Text(3),
            LastArchivedTime = Time(4),
            FailedCount = r.GetInt64(5),
            LastFailedWal = Text(6),
            LastFailedTime = Time(7),
            PendingSegments = (int)r.GetInt64(8),
            OldestPendingSince = Time(9),
            CurrentWal = Text(10),
            CurrentLsn = Text(11),
            Timeline = r.IsDBNull(12) ? 0 : r.GetInt32(12),
            SegmentBytes = ParseSize(Text(13)),
            ServerStartedAt = Time(14),
        };
    }

    /// <summary>Forces the current segment to be completed (and so archived); returns the LSN of the switch.</summary>
    public static async Task<string> SwitchAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT pg_switch_wal()::text", conn);
        return (string)(await cmd.ExecuteScalarAsync(cancellationToken))!;
    }

    /// <summary>
    /// A checkpoint. After a promotion this also wakes the checkpointer, which went to sleep for a whole
    /// checkpoint_timeout while recovery was still in progress and so would not apply archive_timeout until then.
    /// </summary>
    public static async Task CheckpointAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("CHECKPOINT", conn) { CommandTimeout = 600 };
        await cmd.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>Creates a named restore point; returns its LSN, the timeline and the server's time.</summary>
    public static async Task<(string Lsn, int Timeline, DateTimeOffset At)> CreateRestorePointAsync(EngineContext context, string name, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT pg_create_restore_point(@n)::text, (SELECT timeline_id FROM pg_control_checkpoint()), now()", conn);
        cmd.Parameters.AddWithValue("n", name);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return (r.GetString(0), r.GetInt32(1), new DateTimeOffset(r.GetDateTime(2).ToUniversalTime(), TimeSpan.Zero));
    }

    /// <summary>
    /// The commit time of the last transaction the server replayed in its recovery (it stays so after the promotion,
    /// until the server restarts); null when it replayed none.
    /// </summary>
    public static async Task<DateTimeOffset?> LastReplayedCommitAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT pg_last_xact_replay_timestamp()", conn);
        return await cmd.ExecuteScalarAsync(cancellationToken) is DateTime at ? new DateTimeOffset(at.ToUniversalTime(), TimeSpan.Zero) : null;
    }

    /// <summary>Whether the server has left recovery (promoted); null when it does not answer.</summary>
    public static async Task<(bool InRecovery, string? ReplayLsn)> RecoveryAsync(EngineContext context, CancellationToken cancellationToken)
    {
        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        await using var cmd = new NpgsqlCommand("SELECT pg_is_in_recovery(), pg_last_wal_replay_lsn()::text", conn);
        await using var r = await cmd.ExecuteReaderAsync(cancellationToken);
        await r.ReadAsync(cancellationToken);
        return (r.GetBoolean(0), r.IsDBNull(1) ? null : r.GetString(1));
    }

    /// <summary>
    /// The commit (and abort) times recorded in one WAL segment file, oldest first, read with pg_waldump. The file
    /// must be named as the segment. A segment whose last record continues in the next one still yields its times.
    /// </summary>
    public async Task<IReadOnlyList<DateTimeOffset>> CommitTimesAsync(string segmentFile, CancellationToken cancellationToken)
    {
        var psi = new System.Diagnostics.ProcessStartInfo(Path.Combine(engine.BinDir, "pg_waldump"))
        {
            ArgumentList = { "--rmgr=Transaction", segmentFile },
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.Environment["TZ"] = "UTC";
        using var process = System.Diagnostics.Process.Start(psi)!;
        var stderr = process.StandardError.ReadToEndAsync(cancellationToken);
        var times = new List<DateTimeOffset>();
        while (await process.StandardOutput.ReadLineAsync(cancellationToken) is { } line)
        {
            if (CommitTime().Match(line) is { Success: true } m
                && DateTime.TryParseExact(m.Groups[1].Value, "yyyy-MM-dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out var at))
            {
                times.Add(new DateTimeOffset(at, TimeSpan.Zero));
            }
        }

        await process.WaitForExitAsync(cancellationToken);
        await stderr;
        return times;
    }

    private static long ParseSize(string? setting) => setting switch
    {
        null => 16 * 1024 * 1024,
        _ when setting.EndsWith("MB", StringComparison.Ordinal) => long.Parse(setting[..^2], CultureInfo.InvariantCulture) * 1024 * 1024,
        _ when setting.EndsWith("GB", StringComparison.Ordinal) => long.Parse(setting[..^2], CultureInfo.InvariantCulture) * 1024 * 1024 * 1024,
        _ => 16 * 1024 * 1024,
    };

    [GeneratedRegex(@"desc: (?:COMMIT|ABORT) (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}) UTC")]
    private static partial Regex CommitTime();
}
