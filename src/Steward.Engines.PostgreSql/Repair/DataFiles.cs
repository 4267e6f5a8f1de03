using System.Text.RegularExpressions;

namespace Steward.Engines.PostgreSql.Repair;

/// <summary>The files of one relation in a data directory, and the pages in them the server would refuse to read.</summary>
public static partial class DataFiles
{
    /// <summary>
    /// Every file of the relation <paramref name="file"/> belongs to (<c>base/DB/FILENODE</c>): each 1 GiB segment of
    /// each fork (main, <c>_fsm</c>, <c>_vm</c>, <c>_init</c>), relative to <paramref name="dataDir"/>, in order.
    /// </summary>
    public static IReadOnlyList<string> OfRelation(string dataDir, string file)
    {
        var directory = Path.GetDirectoryName(file)!;
        var node = FileNode().Match(Path.GetFileName(file));
        if (!node.Success)
        {
            return [file];
        }

        var filenode = node.Groups[1].Value;
        var full = Path.Combine(dataDir, directory);
        if (!Directory.Exists(full))
        {
            return [];
        }

        return [.. Directory.EnumerateFiles(full)
            .Select(Path.GetFileName)
            .OfType<string>()
            .Where(n => FileNode().Match(n) is { Success: true } m && m.Groups[1].Value == filenode)
            .OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal)
            .Select(n => Path.Combine(directory, n))];
    }

    /// <summary>The blocks (numbered within the file) of <paramref name="path"/> that fail the server's page check.</summary>
    public static async Task<IReadOnlyList<(long Block, string Problem)>> DamagedBlocksAsync(string path, bool checksums, CancellationToken cancellationToken)
    {
        var found = new List<(long, string)>();
        var buffer = new byte[DataPage.Size * 128];
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        long block = 0;
        while (true)
        {
            var read = await stream.ReadAtLeastAsync(buffer, buffer.Length, throwOnEndOfStream: false, cancellationToken);
            for (var at = 0; at + DataPage.Size <= read; at += DataPage.Size, block++)
            {
                if (DataPage.Problem(buffer.AsSpan(at, DataPage.Size), DataPage.ForkBlock(Path.GetFileName(path), block), checksums) is { } problem)
                {
                    found.Add((block, problem));
                }
            }

            if (read < buffer.Length)
            {
                return found;
            }
        }
    }

    /// <summary>Reads block <paramref name="block"/> of the file; null beyond its end.</summary>
    public static async Task<byte[]?> ReadPageAsync(string path, long block, CancellationToken cancellationToken)
    {
        var page = new byte[DataPage.Size];
        await using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite);
        stream.Position = block * DataPage.Size;
        var read = await stream.ReadAtLeastAsync(page, page.Length, throwOnEndOfStream: false, cancellationToken);
        return read == DataPage.Size ? page : null;
    }

    /// <summary>Whether <paramref name="name"/> is a relation's file (<c>16390</c>, <c>16390.2</c>, <c>16390_vm</c>): 8 KiB pages the server checksums.</summary>
    public static bool IsRelationFile(string name) => FileNode().IsMatch(name);

    [GeneratedRegex(@"^(\d+)(?:_(?:fsm|vm|init))?(?:\.\d+)?$")]
    private static partial Regex FileNode();
}
