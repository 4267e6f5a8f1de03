using Microsoft.Data.Sqlite;
using Steward.Wal;

namespace Steward.State.Sqlite;

/// <summary>The WAL archive catalog: one row per archived file, one per restore point.</summary>
public sealed partial class SqliteStateStore : IWalCatalog
{
    private const string WalColumns = "instance_id, name, key, plaintext_bytes, stored_bytes, plaintext_digest, stored_sha256, archived_at, last_commit_at, commits_read, history";

    private const string WalSchema = """
        CREATE TABLE IF NOT EXISTS wal_files (
            instance_id TEXT NOT NULL,
            name TEXT NOT NULL,
            key TEXT NOT NULL,
            plaintext_bytes INTEGER NOT NULL,
            stored_bytes INTEGER NOT NULL,
            plaintext_digest TEXT NOT NULL,
            stored_sha256 TEXT NOT NULL,
            archived_at TEXT NOT NULL,
            last_commit_at TEXT,
            commits_read INTEGER NOT NULL DEFAULT 0,
            history TEXT,
            PRIMARY KEY (instance_id, name)
        );
        CREATE TABLE IF NOT EXISTS restore_points (
            instance_id TEXT NOT NULL,
            name TEXT NOT NULL,
            lsn TEXT NOT NULL,
            timeline INTEGER NOT NULL,
            created_at TEXT NOT NULL,
            PRIMARY KEY (instance_id, name)
        );
        """;

    public Task SaveWalFileAsync(WalFile f, CancellationToken cancellationToken) => WriteAsync(
        $"INSERT OR REPLACE INTO wal_files ({WalColumns}) VALUES ($i, $n, $k, $pb, $sb, $ps, $ss, $at, $lc, $cr, $h)",
        cancellationToken,
        ("$i", f.InstanceId), ("$n", f.Name), ("$k", f.Key), ("$pb", f.PlaintextBytes), ("$sb", f.StoredBytes), ("$ps", f.PlaintextDigest), ("$ss", f.StoredSha256),
        ("$at", Time(f.ArchivedAt)), ("$lc", f.LastCommitAt is { } c ? Time(c) : null), ("$cr", f.CommitsRead ? 1 : 0), ("$h", f.History));

    public async Task<WalFile?> GetWalFileAsync(string instanceId, string name, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {WalColumns} FROM wal_files WHERE instance_id = $i AND name = $n", ReadWalFile, cancellationToken, ("$i", instanceId), ("$n", name))).FirstOrDefault();

    public Task<IReadOnlyList<WalFile>> ListWalFilesAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {WalColumns} FROM wal_files WHERE instance_id = $i ORDER BY name", ReadWalFile, cancellationToken, ("$i", instanceId));

    public Task DeleteWalFileAsync(string instanceId, string name, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM wal_files WHERE instance_id = $i AND name = $n", cancellationToken, ("$i", instanceId), ("$n", name));

    public async Task<bool> AddRestorePointAsync(RestorePoint p, CancellationToken cancellationToken)
    {
        try
        {
            await WriteAsync(
                "INSERT INTO restore_points (instance_id, name, lsn, timeline, created_at) VALUES ($i, $n, $l, $t, $c)",
                cancellationToken,
                ("$i", p.InstanceId), ("$n", p.Name), ("$l", p.Lsn), ("$t", p.Timeline), ("$c", Time(p.CreatedAt)));
            return true;
        }
        catch (SqliteException ex) when (ex.SqliteErrorCode == 19)
        {
            return false;
        }
    }

    public Task<IReadOnlyList<RestorePoint>> ListRestorePointsAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync(
            "SELECT instance_id, name, lsn, timeline, created_at FROM restore_points WHERE instance_id = $i ORDER BY created_at",
            r => new RestorePoint(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), ParseTime(r.GetString(4))),
            cancellationToken,
            ("$i", instanceId));

    private static Task CreateWalTablesAsync(SqliteConnection conn, CancellationToken cancellationToken) => ExecAsync(conn, WalSchema, cancellationToken);

    private static WalFile ReadWalFile(SqliteDataReader r) => new()
    {
        InstanceId = r.GetString(0),
        Name = r.GetString(1),
        Key = r.GetString(2),
        PlaintextBytes = r.GetInt64(3),
        StoredBytes = r.GetInt64(4),
        PlaintextDigest = r.GetString(5),
        StoredSha256 = r.GetString(6),
        ArchivedAt = ParseTime(r.GetString(7)),
        LastCommitAt = r.IsDBNull(8) ? null : ParseTime(r.GetString(8)),
        CommitsRead = r.GetInt64(9) != 0,
        History = Text(r, 10),
    };
}
