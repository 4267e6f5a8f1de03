namespace Steward.Backup.Pipeline;

/// <summary>
/// Base of the errors raised by backup stages. <see cref="Code"/> is machine-readable; the message never contains
/// key material, passwords or environment values.
/// </summary>
public class BackupException : Exception
{
    /// <summary>Creates the exception.</summary>
    public BackupException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    /// <summary>Machine-readable error code, for example <c>source_failed</c> or <c>integrity</c>.</summary>
    public string Code { get; }
}
