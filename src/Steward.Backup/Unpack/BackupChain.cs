using Steward.Backup.Engines;

namespace Steward.Backup.Unpack;

/// <summary>
/// The files of an incremental backup and the backups that hold them. An incremental backup's archive holds only
/// what changed since its parent; its manifest lists every file of the data directory with the backup that holds
/// its content (<see cref="FilesProperty"/>), and the chain of backups from the full one (<see cref="ChainProperty"/>).
/// </summary>
public sealed record BackupChain(IReadOnlyList<string> Links, IReadOnlyList<BackupChain.Entry> Files)
{
    /// <summary>Manifest property: one line per file, <c>holder TAB size TAB mtime-ns TAB path</c>.</summary>
    public const string FilesProperty = "files";

    /// <summary>Manifest property: the chain's backup ids, the full backup first and this backup last, comma-separated.</summary>
    public const string ChainProperty = "chain";

    /// <summary>One file: the backup holding its content, its size and modification time (Unix nanoseconds) when read.</summary>
    public sealed record Entry(string Holder, long Size, long ModifiedNs, string Path);

    /// <summary>The chain described by a manifest's properties; null for a backup that is whole by itself.</summary>
    public static BackupChain? From(IReadOnlyDictionary<string, string> properties)
    {
        if (!properties.TryGetValue(FilesProperty, out var files) || !properties.TryGetValue(ChainProperty, out var chain))
        {
            return null;
        }

        var entries = new List<Entry>();
        foreach (var line in files.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var f = line.Split('\t', 4);
            entries.Add(f.Length == 4 && long.TryParse(f[1], System.Globalization.CultureInfo.InvariantCulture, out var size) && long.TryParse(f[2], System.Globalization.CultureInfo.InvariantCulture, out var ns)
                ? new Entry(f[0], size, ns, f[3])
                : throw new InvalidDataException($"the manifest's file list has a malformed line: {line}"));
        }

        return new BackupChain(chain.Split(',', StringSplitOptions.RemoveEmptyEntries), entries);
    }

    /// <summary>The manifest properties for <paramref name="files"/> on <paramref name="links"/>.</summary>
    public static Dictionary<string, string> ToProperties(IReadOnlyList<string> links, IEnumerable<Entry> files) => new()
    {
        [ChainProperty] = string.Join(',', links),
        [FilesProperty] = string.Concat(files.Select(f => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{f.Holder}\t{f.Size}\t{f.ModifiedNs}\t{f.Path}\n"))),
    };

    /// <summary>
    /// Unpacks the chosen backup into the empty <paramref name="directory"/>: a whole backup as it is; an incremental
    /// one by reading each backup of its chain, oldest first, and writing from each only the files it holds, so
    /// every file is written once and a file the data directory no longer had is not written at all.
    /// </summary>
    public static async Task UnpackAsync(IRestoreHost host, string directory, CancellationToken cancellationToken)
    {
        var chain = From(host.Properties);
        if (chain is null)
        {
            await host.RunAsync(host.UnpackSink(directory), cancellationToken).ConfigureAwait(false);
            return;
        }

        var self = chain.Links[^1];
        foreach (var link in chain.Links)
        {
            var held = chain.Files.Where(f => f.Holder == link).Select(f => f.Path).ToHashSet(StringComparer.Ordinal);
            if (held.Count == 0)
            {
                continue;
            }

            var sink = host.UnpackSink(directory, held.Contains);
            await (link == self ? host.RunAsync(sink, cancellationToken) : host.RunAsync(link, sink, cancellationToken)).ConfigureAwait(false);
        }

        // Every listed file must have come out of its holder: a holder whose archive lacks one is not that backup.
        var paths = chain.Files.Select(f => Path.Combine(directory, f.Path)).ToList();
        if (host.FirstMissing(paths) is { } missing)
        {
            var file = chain.Files[paths.IndexOf(missing)];
            throw new RestoreFailedException(new Pipeline.PipelineFailure("unpack", Pipeline.StageKind.Sink,
                $"the backup chain is incomplete: {file.Path} (held by {file.Holder}) did not come out of its backup", "chain_incomplete"));
        }
    }
}
