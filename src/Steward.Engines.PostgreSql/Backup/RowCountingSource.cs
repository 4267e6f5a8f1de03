using System.Collections.Concurrent;
using System.IO.Pipelines;
using Steward.Backup.Pipeline;
using Steward.Engines.PostgreSql.Rehearsal;

namespace Steward.Engines.PostgreSql.Backup;

/// <summary>
/// Wraps a physical backup's source: every table's rows are counted before the backup starts and after it ends,
/// and both go into the manifest (<see cref="RowCounts.Property"/>), so a rehearsal can compare the restored
/// tables with what the instance held. Counting never fails the backup; a count that could not be taken is
/// recorded as such.
/// </summary>
internal sealed class RowCountingSource(IBackupSource inner, EngineContext context) : IBackupSource, IManifestContributor
{
    private readonly ConcurrentDictionary<string, string> _properties = new();

    public string Name => inner.Name;

    public IReadOnlyDictionary<string, string> ManifestProperties
    {
        get
        {
            var all = new Dictionary<string, string>(inner is IManifestContributor c ? c.ManifestProperties : new Dictionary<string, string>());
            foreach (var (key, value) in _properties)
            {
                all[key] = value;
            }

            return all;
        }
    }

    public async ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var before = await TryCountAsync(cancellationToken);
        await inner.WriteToAsync(output, cancellationToken);
        if (before is not null && await TryCountAsync(cancellationToken) is { } after)
        {
            _properties[RowCounts.Property] = RowCounts.Serialize(before, after);
        }
    }

    private async Task<Dictionary<string, Dictionary<string, long>>?> TryCountAsync(CancellationToken cancellationToken)
    {
        try
        {
            return await RowCounts.CountAsync(context, cancellationToken);
        }
        catch (Exception ex) when (ex is Npgsql.NpgsqlException or TimeoutException or InvalidOperationException)
        {
            _properties["row_counts_error"] = ex.Message;
            return null;
        }
    }
}
