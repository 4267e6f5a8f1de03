namespace Steward.Backup.Pipeline;

/// <summary>Which backup to restore.</summary>
/// <param name="Key">Storage key of the data object; its manifest is read from the key plus
/// <see cref="Manifest.BackupManifest.KeySuffix"/>.</param>
public sealed record RestoreRequest(string Key);
