namespace Steward.Backup.Pipeline;

/// <summary>The data is corrupt, truncated, or does not match the digests recorded in its manifest.</summary>
public sealed class BackupIntegrityException : BackupException
{
    /// <summary>Creates the exception.</summary>
    public BackupIntegrityException(string message, Exception? innerException = null)
        : base("integrity", message, innerException)
    {
    }
}
