using Npgsql;
using Steward.Wal;

namespace Steward.Engines.PostgreSql.Wal;

/// <summary>
/// Archives the segment a timeline ended in when it ended exactly at that segment's end, on the member just promoted.
/// <para>
/// A primary that switches segments (archive_timeout, pg_switch_wal) writes an XLOG_SWITCH record and zeros to the
/// segment's end. When it dies after its standbys received the switch record but before they received all of
/// those zeros, the walreceiver never finishes the segment, so it never marks it <c>.ready</c>; the promoted
/// member's recovery ends at the switch (the segment's end), which is not inside a segment, so no <c>.partial</c> is
/// archived either. The dead primary, fenced, archives nothing. The segment would wait for PostgreSQL's own late
/// fallback (a checkpoint about to remove a segment without archive status marks it <c>.ready</c> first,
/// <c>XLogArchiveCheckDone</c>), and the archive would have a gap until then.
/// </para>
/// <para>
/// So after a promotion the member's newest history file is read; when the parent timeline ended at a segment
/// boundary and the segment before it is in <c>pg_wal</c> without archive status, it is marked <c>.ready</c>
/// (as PostgreSQL's fallback would) and the archiver is woken. Its tail after the switch record may hold a
/// recycled file's old bytes; the broker's archive accepts it as the same WAL as another member's complete copy
/// (docs/high-availability.md#wal-archiving-across-a-failover).
/// </para>
/// </summary>
internal static class EndOfTimelineArchiving
{
    /// <summary>Marks the segment when it needs it; returns its name, or null when nothing was marked.</summary>
    public static async Task<string?> MarkAsync(NpgsqlConnection conn, CancellationToken cancellationToken)
    {
        string? historyName;
        string dataDirectory;
        await using (var cmd = new NpgsqlCommand(
            """
            SELECT current_setting('archive_mode') <> 'off' AND NOT pg_is_in_recovery(),
                   current_setting('data_directory'),
                   (SELECT name FROM pg_ls_waldir() WHERE name ~ '^[0-9A-F]{8}\.history$' ORDER BY name DESC LIMIT 1)
            """,
            conn))
        await using (var r = await cmd.ExecuteReaderAsync(cancellationToken))
        {
            await r.ReadAsync(cancellationToken);
            if (!r.GetBoolean(0) || r.IsDBNull(2))
            {
                return null;
            }

            dataDirectory = r.GetString(1);
            historyName = r.GetString(2);
        }

        string history;
        await using (var read = new NpgsqlCommand("SELECT pg_read_file('pg_wal/' || @name)", conn))
        {
            read.Parameters.AddWithValue("name", historyName);
            history = (string)(await read.ExecuteScalarAsync(cancellationToken))!;
        }

        if (TimelineHistory.Parse(history) is not [.., var last] || last.SwitchPoint % WalName.SegmentBytes != 0 || last.SwitchPoint == 0)
        {
            return null;
        }

        var segment = WalName.SegmentName(last.Parent, last.SwitchPoint / WalName.SegmentBytes - 1);
        await using (var check = new NpgsqlCommand(
            """
            SELECT EXISTS (SELECT 1 FROM pg_ls_waldir() WHERE name = @segment)
               AND NOT EXISTS (SELECT 1 FROM pg_ls_archive_statusdir() WHERE name IN (@segment || '.ready', @segment || '.done'))
            """,
            conn))
        {
            check.Parameters.AddWithValue("segment", segment);
            if (await check.ExecuteScalarAsync(cancellationToken) is not true)
            {
                return null;
            }
        }

        // COPY writes an empty file as the server's user, local or in a pod alike. The name is a segment name built
        // above (hexadecimal only) and the directory is the server's own, so the literal cannot be steered.
        var ready = Path.Combine(dataDirectory, "pg_wal", "archive_status", segment + ".ready").Replace("'", "''", StringComparison.Ordinal);
        await using (var mark = new NpgsqlCommand($"COPY (SELECT 1 WHERE false) TO '{ready}'", conn))
        {
            await mark.ExecuteNonQueryAsync(cancellationToken);
        }

        // A reload sets the archiver's latch: it scans archive_status again now rather than at its next 60 s wake-up.
        await using (var wake = new NpgsqlCommand("SELECT pg_reload_conf()", conn))
        {
            await wake.ExecuteNonQueryAsync(cancellationToken);
        }

        return segment;
    }
}
