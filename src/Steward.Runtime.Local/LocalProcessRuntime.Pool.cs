namespace Steward.Runtime.Local;

/// <summary>The warm pool's files: <c>&lt;data&gt;/pool/&lt;entry&gt;</c>, beside <c>instances/</c>.</summary>
public sealed partial class LocalProcessRuntime
{
    private string PoolRoot => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(_options.InstancesRoot).TrimEnd('/'))!, "pool");

    public InstancePaths PoolPathsFor(string entryId)
    {
        if (entryId.Contains('/', StringComparison.Ordinal) || entryId is "" or "." or "..")
        {
            throw new ArgumentException($"'{entryId}' is not a plain name", nameof(entryId));
        }

        if (!Directory.Exists(PoolRoot))
        {
            Directory.CreateDirectory(PoolRoot);
            File.SetUnixFileMode(PoolRoot, Traversable);
        }

        return new InstancePaths(Path.Combine(PoolRoot, entryId));
    }

    public IReadOnlyList<string> ListPoolEntries() =>
        Directory.Exists(PoolRoot) ? [.. Directory.EnumerateDirectories(PoolRoot).Select(d => Path.GetFileName(d)!)] : [];

    public async Task<bool> AdoptPreparedAsync(InstancePaths prepared, InstancePaths paths, CancellationToken cancellationToken)
    {
        if (Directory.Exists(prepared.DataDir))
        {
            // Nothing may still write into the entry (a tool orphaned by a crash): stopped before the move.
            await StopAsync(prepared, 9, TimeSpan.Zero, cancellationToken);
            await CreateDirectoriesAsync(paths, cancellationToken);
            Directory.Delete(paths.DataDir);
            Directory.Move(prepared.DataDir, paths.DataDir);
        }
        else if (!Directory.Exists(paths.DataDir) || !Directory.EnumerateFileSystemEntries(paths.DataDir).Any())
        {
            await DeleteAsync(prepared, cancellationToken);
            return false;
        }

        await DeleteAsync(prepared, cancellationToken);
        return true;
    }
}
