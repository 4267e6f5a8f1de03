namespace Steward.Wal;

/// <summary>A named point in an instance's WAL (<c>pg_create_restore_point</c>) a restore can target.</summary>
public sealed record RestorePoint(string InstanceId, string Name, string Lsn, int Timeline, DateTimeOffset CreatedAt);
