namespace Steward.State.Sqlite;

/// <summary>What the SQLite store migrates in files of earlier releases; the tables are <see cref="Steward.State.Relational.RelationalSchema"/>.</summary>
internal static class Schema
{
    /// <summary>
    /// Columns renamed since a release, old name to new, applied to an existing database at start. The plaintext digest
    /// names its algorithm since BLAKE3 replaced SHA-256 (rows from before keep their bare SHA-256 hex, which
    /// Steward.Backup.Integrity.ContentHasher reads as such).
    /// </summary>
    public static readonly (string Table, string From, string To)[] RenamedColumns =
    [
        ("backups", "plaintext_sha256", "plaintext_digest"),
        ("wal_files", "plaintext_sha256", "plaintext_digest"),
    ];

    /// <summary>Columns added after the first release; each is added when missing.</summary>
    public static readonly (string Table, string Column, string Definition)[] AddedColumns =
    [
        ("bindings", "api_token", "TEXT"),
        ("bindings", "api_token_hash", "TEXT"),
        ("rehearsal_schedules", "source", "TEXT NOT NULL DEFAULT 'instance'"),
    ];
}
