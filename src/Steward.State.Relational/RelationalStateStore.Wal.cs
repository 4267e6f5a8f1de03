using System.Data.Common;
using Steward.Wal;

namespace Steward.State.Relational;

/// <summary>The WAL archive catalog: one row per archived file, one per restore point.</summary>
public abstract partial class RelationalStateStore : IWalCatalog
{
    private const string WalColumns = "instance_id, name, key, plaintext_bytes, stored_bytes, plaintext_digest, stored_sha256, archived_at, last_commit_at, commits_read, history";

    public Task SaveWalFileAsync(WalFile f, CancellationToken cancellationToken) => WriteAsync(
        Upsert("wal_files", WalColumns, "instance_id, name"),
        cancellationToken,
        ("@instance_id", f.InstanceId), ("@name", f.Name), ("@key", f.Key), ("@plaintext_bytes", f.PlaintextBytes), ("@stored_bytes", f.StoredBytes),
        ("@plaintext_digest", f.PlaintextDigest), ("@stored_sha256", f.StoredSha256), ("@archived_at", Time(f.ArchivedAt)),
        ("@last_commit_at", f.LastCommitAt is { } c ? Time(c) : null), ("@commits_read", f.CommitsRead ? 1 : 0), ("@history", f.History));

    public async Task<WalFile?> GetWalFileAsync(string instanceId, string name, CancellationToken cancellationToken) =>
        (await QueryAsync($"SELECT {WalColumns} FROM wal_files WHERE instance_id = @i AND name = @n", ReadWalFile, cancellationToken, ("@i", instanceId), ("@n", name))).FirstOrDefault();

    public Task<IReadOnlyList<WalFile>> ListWalFilesAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync($"SELECT {WalColumns} FROM wal_files WHERE instance_id = @i ORDER BY name", ReadWalFile, cancellationToken, ("@i", instanceId));

    public Task DeleteWalFileAsync(string instanceId, string name, CancellationToken cancellationToken) =>
        WriteAsync("DELETE FROM wal_files WHERE instance_id = @i AND name = @n", cancellationToken, ("@i", instanceId), ("@n", name));

    public async Task<bool> AddRestorePointAsync(RestorePoint p, CancellationToken cancellationToken) => await WriteAsync(
        "INSERT INTO restore_points (instance_id, name, lsn, timeline, created_at) VALUES (@i, @n, @l, @t, @c) ON CONFLICT (instance_id, name) DO NOTHING",
        cancellationToken,
        ("@i", p.InstanceId), ("@n", p.Name), ("@l", p.Lsn), ("@t", p.Timeline), ("@c", Time(p.CreatedAt))) == 1;

    public Task<IReadOnlyList<RestorePoint>> ListRestorePointsAsync(string instanceId, CancellationToken cancellationToken) =>
        QueryAsync(
            "SELECT instance_id, name, lsn, timeline, created_at FROM restore_points WHERE instance_id = @i ORDER BY created_at",
            r => new RestorePoint(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt32(3), ParseTime(r.GetString(4))),
            cancellationToken,
            ("@i", instanceId));

    private static WalFile ReadWalFile(DbDataReader r) => new()
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
        CommitsRead = r.GetInt32(9) != 0,
        History = Text(r, 10),
    };
}
