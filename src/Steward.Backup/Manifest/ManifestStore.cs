using System.Text.Json;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Manifest;

/// <summary>Reads and writes manifests next to their data objects.</summary>
public static class ManifestStore
{
    /// <summary>The manifest key of a data key.</summary>
    public static string ManifestKey(string dataKey) => dataKey + BackupManifest.KeySuffix;

    /// <summary>Serialises a manifest (camelCase JSON).</summary>
    public static byte[] Serialize(BackupManifest manifest) =>
        JsonSerializer.SerializeToUtf8Bytes(manifest, ManifestJsonContext.Default.BackupManifest);

    /// <summary>Parses a manifest.</summary>
    public static BackupManifest Deserialize(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize(json, ManifestJsonContext.Default.BackupManifest)
        ?? throw new BackupException("manifest_invalid", "The manifest is empty.");

    /// <summary>Writes the manifest of <see cref="BackupManifest.DataKey"/> and commits it.</summary>
    public static async ValueTask WriteAsync(IBackupStorage storage, BackupManifest manifest, CancellationToken cancellationToken)
    {
        await using var writer = await storage.OpenWriteAsync(ManifestKey(manifest.DataKey), cancellationToken).ConfigureAwait(false);
        await writer.WriteAsync(Serialize(manifest), cancellationToken).ConfigureAwait(false);
        await writer.CompleteAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Reads the manifest of <paramref name="dataKey"/>.</summary>
    /// <exception cref="BackupException">The manifest is missing or unreadable.</exception>
    public static async ValueTask<BackupManifest> ReadAsync(IBackupStorage storage, string dataKey, CancellationToken cancellationToken)
    {
        var key = ManifestKey(dataKey);
        if (!await storage.ExistsAsync(key, cancellationToken).ConfigureAwait(false))
        {
            throw new BackupException("manifest_missing", $"No manifest '{key}' found; the backup is incomplete or does not exist.");
        }

        var stream = await storage.OpenReadAsync(key, cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            using var buffer = new MemoryStream();
            await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
            try
            {
                return Deserialize(buffer.GetBuffer().AsSpan(0, (int)buffer.Length));
            }
            catch (JsonException ex)
            {
                throw new BackupException("manifest_invalid", $"The manifest '{key}' is not valid: {ex.Message}", ex);
            }
        }
    }
}
