using System.Collections.Concurrent;
using System.IO.Pipelines;
using Steward.Backup.Pipeline;
using Steward.Engines.Redis.Rehearsal;
using Steward.Engines.Redis.Resp;

namespace Steward.Engines.Redis.Backup;

/// <summary>
/// Wraps the RDB source: the keys of every database are counted before and after the snapshot and recorded in the
/// manifest (<see cref="KeyCounts.Property"/>) for rehearsals to compare. Counting never fails the backup.
/// </summary>
internal sealed class KeyCountingSource(IBackupSource inner, EngineContext context) : IBackupSource, IManifestContributor
{
    private readonly ConcurrentDictionary<string, string> _properties = new();

    public string Name => inner.Name;

    public IReadOnlyDictionary<string, string> ManifestProperties => _properties;

    public async ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var before = await TryCountAsync(cancellationToken);
        await inner.WriteToAsync(output, cancellationToken);
        if (before is not null && await TryCountAsync(cancellationToken) is { } after)
        {
            _properties[KeyCounts.Property] = KeyCounts.Serialize(before, after);
        }
    }

    private async Task<Dictionary<string, long>?> TryCountAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await KeyCounts.CountAsync(context, cancellationToken);
        }
        catch (Exception ex) when (ex is RespException or IOException or System.Net.Sockets.SocketException or TimeoutException)
        {
            _properties["key_counts_error"] = ex.Message;
            return null;
        }
    }
}
