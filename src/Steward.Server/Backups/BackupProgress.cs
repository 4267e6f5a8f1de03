namespace Steward.Server.Backups;

/// <summary>How far a running backup or restore has come.</summary>
internal sealed record BackupProgress(string Stage, long PlaintextBytes, long StoredBytes, DateTimeOffset StartedAt, DateTimeOffset At)
{
    /// <summary>Plaintext throughput so far, in bytes per second.</summary>
    public double BytesPerSecond => (At - StartedAt).TotalSeconds is > 0 and var s ? PlaintextBytes / s : 0;
}
