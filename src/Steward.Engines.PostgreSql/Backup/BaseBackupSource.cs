using System.Collections.Concurrent;
using System.IO.Pipelines;
using System.Text.RegularExpressions;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;

namespace Steward.Engines.PostgreSql.Backup;

/// <summary>
/// <c>pg_basebackup -Ft -X fetch -D -</c>: one tar of the whole cluster with the WAL needed to make it
/// consistent. The WAL start and end positions and the timeline pg_basebackup reports go into the manifest.
/// </summary>
internal sealed partial class BaseBackupSource : IBackupSource, IManifestContributor
{
    private readonly ProcessSource _process;
    private readonly ConcurrentDictionary<string, string> _properties = new();

    public BaseBackupSource(ProcessCommand command, string serverVersion)
    {
        _properties["server_version"] = serverVersion;
        _properties["format"] = "tar (pg_basebackup -Ft -X fetch), WAL included";
        _process = new ProcessSource(command with { OnStderrLine = Observe });
    }

    public string Name => "pg_basebackup";

    public IReadOnlyDictionary<string, string> ManifestProperties => _properties;

    public ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken) => _process.WriteToAsync(output, cancellationToken);

    private void Observe(string line)
    {
        if (StartPoint().Match(line) is { Success: true } start)
        {
            _properties["start_lsn"] = start.Groups[1].Value;
            _properties["timeline"] = start.Groups[2].Value;
        }
        else if (EndPoint().Match(line) is { Success: true } end)
        {
            _properties["stop_lsn"] = end.Groups[1].Value;
        }
    }

    [GeneratedRegex(@"write-ahead log start point: ([0-9A-F]+/[0-9A-F]+) on timeline (\d+)")]
    private static partial Regex StartPoint();

    [GeneratedRegex(@"write-ahead log end point: ([0-9A-F]+/[0-9A-F]+)")]
    private static partial Regex EndPoint();
}
