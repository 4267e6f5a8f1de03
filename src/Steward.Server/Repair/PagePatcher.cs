using System.Globalization;
using Steward.Engines.PostgreSql.Repair;

namespace Steward.Server.Repair;

/// <summary>
/// Replaces damaged pages of the stopped live server's files with the copy's, in place (8 KiB at the block's offset,
/// then fsync), after keeping each original in <c>kept</c>. Idempotent, so a broker killed midway repeats it: a page
/// whose original was kept is written again; an original is kept once, written aside and renamed, so a kept file is
/// always whole.
/// </summary>
internal sealed class PagePatcher(string liveDataDir, string copyDataDir, string kept, bool checksums)
{
    /// <summary>One page or file replaced: where, how many bytes, and the copy page's LSN.</summary>
    public sealed record Replaced(string File, long? Block, long Bytes, string Detail);

    public async Task<IReadOnlyList<Replaced>> PatchAsync(IReadOnlyList<RepairItem> items, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(kept);
        var replaced = new List<Replaced>();
        foreach (var item in items)
        {
            if (item.WholeFile)
            {
                replaced.Add(await ReplaceFileAsync(item.File, cancellationToken));
                continue;
            }

            foreach (var block in item.Blocks)
            {
                if (await ReplacePageAsync(item.File, block, cancellationToken) is { } r)
                {
                    replaced.Add(r);
                }
            }
        }

        return replaced;
    }

    /// <summary>Puts every kept original back (a repaired server that does not start is returned to how it was).</summary>
    public async Task<int> RestoreOriginalsAsync(CancellationToken cancellationToken)
    {
        if (!Directory.Exists(kept))
        {
            return 0;
        }

        var restored = 0;
        foreach (var original in Directory.EnumerateFiles(kept, "*.page"))
        {
            var (file, block) = Decode(Path.GetFileName(original));
            await WriteAsync(Path.Combine(liveDataDir, file), block * DataPage.Size, await File.ReadAllBytesAsync(original, cancellationToken), cancellationToken);
            restored++;
        }

        foreach (var original in Directory.EnumerateFiles(kept, "*.file"))
        {
            var file = Path.GetFileNameWithoutExtension(original).Replace('@', '/');
            await using (var to = new FileStream(Path.Combine(liveDataDir, file), FileMode.Create, FileAccess.Write))
            await using (var from = File.OpenRead(original))
            {
                await from.CopyToAsync(to, cancellationToken);
                to.Flush(flushToDisk: true);
            }

            restored++;
        }

        return restored;
    }

    private async Task<Replaced?> ReplacePageAsync(string file, long block, CancellationToken cancellationToken)
    {
        var live = Path.Combine(liveDataDir, file);
        var keptPage = Path.Combine(kept, Encode(file, block));
        var forkBlock = DataPage.ForkBlock(Path.GetFileName(file), block);
        var current = await DataFiles.ReadPageAsync(live, block, cancellationToken)
            ?? throw new InvalidOperationException($"block {block} is beyond the end of the live server's file {file}");
        if (!File.Exists(keptPage))
        {
            if (DataPage.Problem(current, forkBlock, checksums) is null)
            {
                // Written whole by the server since it was found damaged (a dirty buffer flushed at shutdown): nothing to replace.
                return null;
            }

            await WriteKeptAsync(keptPage, current, cancellationToken);
        }

        var page = await DataFiles.ReadPageAsync(Path.Combine(copyDataDir, file), block, cancellationToken)
            ?? throw new InvalidOperationException($"the copy has no block {block} in {file}: the relation differs between the copy and the live server");
        if (DataPage.Problem(page, forkBlock, checksums) is { } problem)
        {
            throw new InvalidOperationException($"the copy's block {block} of {file} fails its own check ({problem}); it is not used");
        }

        await WriteAsync(live, block * DataPage.Size, page, cancellationToken);
        return new Replaced(file, block, DataPage.Size, string.Create(CultureInfo.InvariantCulture, $"page LSN {Steward.Wal.Lsn.Format((long)DataPage.Lsn(page))}, checksum {DataPage.StoredChecksum(page)} (was {DataPage.StoredChecksum(current)})"));
    }

    private async Task<Replaced> ReplaceFileAsync(string file, CancellationToken cancellationToken)
    {
        var live = Path.Combine(liveDataDir, file);
        var keptFile = Path.Combine(kept, file.Replace('/', '@') + ".file");
        if (!File.Exists(keptFile) && File.Exists(live))
        {
            await CopyAsync(live, keptFile + ".partial", cancellationToken);
            File.Move(keptFile + ".partial", keptFile, overwrite: true);
        }

        var copy = Path.Combine(copyDataDir, file);
        if (!File.Exists(copy))
        {
            throw new InvalidOperationException($"the copy has no file {file}");
        }

        // In place (truncated and rewritten), so the file keeps its owner and mode.
        await using (var to = new FileStream(live, FileMode.Create, FileAccess.Write))
        await using (var from = File.OpenRead(copy))
        {
            await from.CopyToAsync(to, cancellationToken);
            to.Flush(flushToDisk: true);
        }

        return new Replaced(file, null, new FileInfo(copy).Length, "whole file");
    }

    private static async Task WriteAsync(string path, long offset, byte[] page, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Write, FileShare.ReadWrite);
        stream.Position = offset;
        await stream.WriteAsync(page, cancellationToken);
        stream.Flush(flushToDisk: true);
    }

    private static async Task WriteKeptAsync(string path, byte[] page, CancellationToken cancellationToken)
    {
        await File.WriteAllBytesAsync(path + ".partial", page, cancellationToken);
        File.Move(path + ".partial", path, overwrite: true);
    }

    private static async Task CopyAsync(string from, string to, CancellationToken cancellationToken)
    {
        await using var source = File.OpenRead(from);
        await using var target = File.Create(to);
        await source.CopyToAsync(target, cancellationToken);
        target.Flush(flushToDisk: true);
    }

    /// <summary><c>base/16384/16390.1</c> block 7 → <c>base@16384@16390.1#7.page</c>.</summary>
    private static string Encode(string file, long block) => string.Create(CultureInfo.InvariantCulture, $"{file.Replace('/', '@')}#{block}.page");

    private static (string File, long Block) Decode(string name)
    {
        var hash = name.LastIndexOf('#');
        return (name[..hash].Replace('@', '/'), long.Parse(name[(hash + 1)..^".page".Length], CultureInfo.InvariantCulture));
    }
}
