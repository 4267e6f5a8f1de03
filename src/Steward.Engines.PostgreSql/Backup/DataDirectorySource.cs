using System.Buffers.Binary;
using System.Collections.Concurrent;
using System.Formats.Tar;
using System.Globalization;
using System.IO.Pipelines;
using Npgsql;
using Steward.Backup.Engines;
using Steward.Backup.Pipeline;
using Steward.Backup.Unpack;
using Steward.Engines.PostgreSql.Repair;
using Steward.Security;

namespace Steward.Engines.PostgreSql.Backup;

/// <summary>
/// Reads the data directory itself between <c>pg_backup_start</c> and <c>pg_backup_stop</c>, as pgBackRest and
/// Barman do, instead of through <c>pg_basebackup</c>: every file's size and modification time is known, so a
/// backup built on a parent holds only the files that changed since the parent started (an incremental backup),
/// and the manifest lists every file with the backup that holds it (<see cref="BackupChain"/>). The output is one
/// tar with <c>backup_label</c> and the WAL from the start to the stop point, like <c>pg_basebackup -Ft -X fetch</c>.
/// <para>
/// A file counts as unchanged when its size and modification time are what the parent recorded and it was last
/// modified more than 100 ms before the parent started; a file written while the parent ran is taken again.
/// Modification times only mean something within one data directory's life: a restore writes files with the times
/// they had in the backup. So the chain is kept only while the directory holds the chain's marker
/// (<see cref="MarkerFile"/>, a <c>pgsql_tmp</c> file that neither this source nor <c>pg_basebackup</c> copies): any
/// directory put in place since (restore, rebuild, point-in-time restore, failover to another member) has none, and
/// the next backup is full.
/// </para>
/// <para>
/// Without <c>chained</c>, it is the source of a whole physical backup (<see cref="PostgreSqlPhysicalBackup"/>): every
/// file, no file list, and the chain's marker left alone. Either way every page of a relation's file is verified
/// against its checksum as it is read, as <c>pg_basebackup</c> has the server do (<see cref="PageCheck"/>).
/// </para>
/// </summary>
internal sealed class DataDirectorySource(EngineContext context, string backupId, BackupLink? parent, TimeProvider time, bool chained = true) : IBackupSource, IManifestContributor
{
    /// <summary>The chain's marker in the data directory: <c>pgsql_tmp</c>-prefixed, so no physical backup copies it.</summary>
    public const string MarkerFile = "pgsql_tmp.steward-chain";

    private const int ReadBytes = 1024 * 1024;

    // File times come from the kernel's coarse clock (one tick, at most 10 ms behind at HZ=100): a file written just
    // after the parent started may carry a time just before it. 100 ms covers that many times over.
    private const long ClockMarginNs = 100_000_000;

    // What pg_basebackup leaves out (src/backend/backup/basebackup.c): contents of these directories, these files.
    private static readonly HashSet<string> SkippedContents = new(StringComparer.Ordinal)
    {
        "pg_wal", "pg_stat_tmp", "pg_replslot", "pg_dynshmem", "pg_notify", "pg_serial", "pg_snapshots", "pg_subtrans",
    };

    private static readonly HashSet<string> SkippedFiles = new(StringComparer.Ordinal)
    {
        "postmaster.pid", "postmaster.opts", "backup_label", "tablespace_map", "backup_label.old", "pg_internal.init",
        "postgresql.auto.conf.tmp", "current_logfiles.tmp",
    };

    private readonly ConcurrentDictionary<string, string> _properties = new();

    public string Name => "data directory";

    public IReadOnlyDictionary<string, string> ManifestProperties => _properties;

    public async ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        if (context.Plan.HighlyAvailable)
        {
            throw new BackupException("source_failed", "incremental backups are not available on ha plans yet (each member has its own data directory); use kind physical");
        }

        var dataDir = context.Paths.DataDir;
        var (chain, links, reason) = chained ? Parent(dataDir) : (null, null, null);
        var token = chain?.Properties["chain_token"] ?? Secrets.Token(12);
        if (chained && chain is null)
        {
            await context.Runtime.WriteFileAsync(Path.Combine(dataDir, MarkerFile), token + "\n", cancellationToken);
        }

        var previous = chain is null ? new Dictionary<string, BackupChain.Entry>() : links!.Files.ToDictionary(f => f.Path, StringComparer.Ordinal);
        var previousStartNs = chain is null ? 0 : long.Parse(chain.Properties["backup_start_ns"], CultureInfo.InvariantCulture);

        await using var conn = await PostgreSqlEngine.OpenAdminAsync(context, "postgres", cancellationToken);
        var startNs = (time.GetUtcNow() - DateTimeOffset.UnixEpoch).Ticks * 100;
        string startLsn;
        await using (var start = new NpgsqlCommand("SELECT pg_backup_start(@label, true)::text", conn))
        {
            start.Parameters.AddWithValue("label", "steward " + backupId);
            startLsn = (string)(await start.ExecuteScalarAsync(cancellationToken))!;
        }

        bool checksums;
        await using (var show = new NpgsqlCommand("SHOW data_checksums", conn))
        {
            checksums = (string?)await show.ExecuteScalarAsync(cancellationToken) == "on";
        }

        var pages = checksums ? new PageCheck((ulong)Steward.Wal.Lsn.Parse(startLsn)) : null;

        var stream = output.AsStream(leaveOpen: true);
        var files = new List<BackupChain.Entry>();
        long changedBytes = 0;
        var changed = 0;
        string label, stopLsn, stopSegment;
        await using (var tar = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var (relative, info) in Walk(dataDir))
            {
                if (info is DirectoryInfo)
                {
                    await tar.WriteEntryAsync(Entry(TarEntryType.Directory, relative, info), cancellationToken);
                    continue;
                }

                var file = (FileInfo)info;
                var mtimeNs = (file.LastWriteTimeUtc - DateTime.UnixEpoch).Ticks * 100;
                if (previous.TryGetValue(relative, out var before) && before.Size == file.Length && before.ModifiedNs == mtimeNs && mtimeNs < previousStartNs - ClockMarginNs)
                {
                    files.Add(before);
                    continue;
                }

                if (await WriteFileAsync(tar, relative, file, pages, cancellationToken) is { } size)
                {
                    files.Add(new BackupChain.Entry(backupId, size, mtimeNs, relative));
                    changedBytes += size;
                    changed++;
                }
            }

            string? map;
            await using (var stop = new NpgsqlCommand("SELECT lsn::text, labelfile, spcmapfile, pg_walfile_name(lsn) FROM pg_backup_stop(false)", conn))
            await using (var reader = await stop.ExecuteReaderAsync(cancellationToken))
            {
                await reader.ReadAsync(cancellationToken);
                (stopLsn, label, map, stopSegment) = (reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? null : reader.GetString(2), reader.GetString(3));
            }

            files.Add(new BackupChain.Entry(backupId, await WriteTextAsync(tar, "backup_label", label, cancellationToken), 0, "backup_label"));
            if (!string.IsNullOrEmpty(map))
            {
                files.Add(new BackupChain.Entry(backupId, await WriteTextAsync(tar, "tablespace_map", map, cancellationToken), 0, "tablespace_map"));
            }

            // The WAL from the start to the stop point makes the copy consistent on its own (pg_basebackup -X fetch).
            var startSegment = Field(label, "START WAL LOCATION:") is { } location && location.IndexOf("(file ", StringComparison.Ordinal) is var at and >= 0
                ? location[(at + 6)..].TrimEnd(')')
                : throw new BackupException("source_failed", "pg_backup_stop returned a backup label without its start WAL file");
            foreach (var segment in Directory.EnumerateFiles(Path.Combine(dataDir, "pg_wal")).Select(Path.GetFileName).Where(n => n!.Length == 24 && string.CompareOrdinal(n, startSegment) >= 0 && string.CompareOrdinal(n, stopSegment) <= 0).Order(StringComparer.Ordinal))
            {
                var relative = "pg_wal/" + segment;
                var size = await WriteFileAsync(tar, relative, new FileInfo(Path.Combine(dataDir, relative)), null, cancellationToken)
                    ?? throw new BackupException("source_failed", $"WAL segment {segment}, needed to make the backup consistent, was removed while it was copied");
                files.Add(new BackupChain.Entry(backupId, size, 0, relative));
            }
        }

        await stream.FlushAsync(cancellationToken);
        _properties["server_version"] = PostgreSqlPhysicalBackup.ServerVersion(context);
        _properties["format"] = "tar (the data directory read between pg_backup_start and pg_backup_stop), WAL included";
        _properties["backup_type"] = chain is null ? "full" : "incremental";
        _properties["start_lsn"] = startLsn;
        _properties["stop_lsn"] = stopLsn;
        _properties["timeline"] = Field(label, "START TIMELINE:") ?? "1";
        _properties["pages_verified"] = pages is null ? "no (data checksums are off)" : pages.Verified.ToString(CultureInfo.InvariantCulture);
        if (!chained)
        {
            return;
        }

        IReadOnlyList<string> chainIds = chain is null ? [backupId] : [.. links!.Links, backupId];
        foreach (var (key, value) in BackupChain.ToProperties(chainIds, files))
        {
            _properties[key] = value;
        }

        _properties["chain_token"] = token;
        _properties["backup_start_ns"] = startNs.ToString(CultureInfo.InvariantCulture);
        _properties["changed_files"] = changed.ToString(CultureInfo.InvariantCulture);
        _properties["changed_bytes"] = changedBytes.ToString(CultureInfo.InvariantCulture);
        if (chain is not null)
        {
            _properties["parent"] = chain.Id;
        }
        else if (reason is not null)
        {
            _properties["full_reason"] = reason;
        }
    }

    /// <summary>The parent to build on with its chain (read once: its file list can be long), or null with why not (null reason: there was none).</summary>
    private (BackupLink? Parent, BackupChain? Chain, string? Reason) Parent(string dataDir)
    {
        if (parent is null)
        {
            return (null, null, null);
        }

        if (!parent.Properties.TryGetValue("chain_token", out var token) || BackupChain.From(parent.Properties) is not { } chain || !parent.Properties.ContainsKey("backup_start_ns"))
        {
            return (null, null, $"backup {parent.Id} has no file list to build on");
        }

        var marker = Path.Combine(dataDir, MarkerFile);
        var current = File.Exists(marker) ? File.ReadAllText(marker).Trim() : null;
        return current == token
            ? (parent, chain, null)
            : (null, null, $"the data directory was replaced since backup {parent.Id} (a restore, rebuild or failover): file times no longer tell what changed");
    }

    /// <summary>Every directory and regular file to back up, parents before children, in a stable order.</summary>
    private static IEnumerable<(string Relative, FileSystemInfo Info)> Walk(string root)
    {
        var pending = new Stack<string>();
        pending.Push(string.Empty);
        while (pending.Count > 0)
        {
            var relative = pending.Pop();
            var directory = new DirectoryInfo(relative.Length == 0 ? root : Path.Combine(root, relative));
            FileSystemInfo[] entries;
            try
            {
                entries = directory.GetFileSystemInfos();
            }
            catch (DirectoryNotFoundException)
            {
                continue; // A database dropped while the backup ran.
            }

            var name = relative.Length == 0 ? string.Empty : relative + "/";
            var children = new List<string>();
            foreach (var entry in entries.OrderBy(e => e.Name, StringComparer.Ordinal))
            {
                if (entry.Name.StartsWith("pgsql_tmp", StringComparison.Ordinal) || SkippedFiles.Contains(entry.Name))
                {
                    continue;
                }

                if (entry.LinkTarget is not null)
                {
                    throw new BackupException("source_failed", $"{name}{entry.Name} is a symbolic link (a tablespace or a moved pg_wal); the data directory source copies plain directories only");
                }

                if (entry is DirectoryInfo)
                {
                    yield return (name + entry.Name, entry);
                    if (!(relative.Length == 0 && SkippedContents.Contains(entry.Name)))
                    {
                        children.Add(name + entry.Name);
                    }
                    else if (relative.Length == 0 && entry.Name == "pg_wal" && new DirectoryInfo(Path.Combine(entry.FullName, "archive_status")) is { Exists: true } status)
                    {
                        yield return ("pg_wal/archive_status", status);
                    }
                }
                else if (entry is FileInfo)
                {
                    yield return (name + entry.Name, entry);
                }
            }

            for (var i = children.Count - 1; i >= 0; i--)
            {
                pending.Push(children[i]);
            }
        }
    }

    /// <summary>
    /// Writes one file as it is now, at the size it had when listed; null when it was removed meanwhile. With
    /// <paramref name="pages"/>, a relation's file has each page verified as it is read.
    /// </summary>
    private static async Task<long?> WriteFileAsync(TarWriter tar, string relative, FileInfo info, PageCheck? pages, CancellationToken cancellationToken)
    {
        FileStream file;
        try
        {
            info.Refresh();
            file = new FileStream(info.FullName, new FileStreamOptions { Mode = FileMode.Open, Access = FileAccess.Read, Share = FileShare.ReadWrite | FileShare.Delete, BufferSize = 0, Options = FileOptions.SequentialScan });
        }
        catch (FileNotFoundException)
        {
            return null; // Dropped while the backup ran: WAL replay drops it again.
        }

        await using (file)
        {
            // A file growing or shrinking while it is read is copied at its listed size, the rest zero-filled, as
            // pg_basebackup does: the WAL from the start point repairs every page written meanwhile.
            var length = info.Length;
            var entry = Entry(TarEntryType.RegularFile, relative, info);
            var verify = pages is not null && (relative.StartsWith("base/", StringComparison.Ordinal) || relative.StartsWith("global/", StringComparison.Ordinal))
                && DataFiles.IsRelationFile(info.Name);
            entry.DataStream = new FixedLengthStream(file, length, verify ? pages!.For(relative, info.Name, file) : null);
            await tar.WriteEntryAsync(entry, cancellationToken);
            return length;
        }
    }

    private static async Task<long> WriteTextAsync(TarWriter tar, string name, string content, CancellationToken cancellationToken)
    {
        var bytes = System.Text.Encoding.UTF8.GetBytes(content);
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { Mode = UnixFileMode.UserRead | UnixFileMode.UserWrite, DataStream = new MemoryStream(bytes) };
        await tar.WriteEntryAsync(entry, cancellationToken);
        return bytes.Length;
    }

    private static PaxTarEntry Entry(TarEntryType type, string relative, FileSystemInfo info) => new(type, relative)
    {
        Mode = File.GetUnixFileMode(info.FullName) & (UnixFileMode)0b111_111_111,
        ModificationTime = info.LastWriteTimeUtc,
    };

    private static string? Field(string label, string name) =>
        label.Split('\n').FirstOrDefault(l => l.StartsWith(name, StringComparison.Ordinal))?[name.Length..].Trim();

    /// <summary>
    /// The page check <c>pg_basebackup</c> has the server make as it sends a relation's file
    /// (<c>verify_page_checksum</c> in <c>src/backend/backup/basebackup.c</c>): a page that is not new and was last
    /// written before the backup started must carry its checksum; one that does not is read once more (a write may
    /// have been under way), and if it still does not, the backup fails naming the file and block, as a
    /// <c>pg_basebackup</c> that met a checksum failure does. A page written since the start is left to the WAL
    /// the backup carries, and a file whose reads stop falling on page boundaries is not checked further.
    /// </summary>
    internal sealed class PageCheck(ulong startLsn)
    {
        private readonly ulong _startLsn = startLsn;
        private long _verified;

        /// <summary>Pages whose checksum was verified.</summary>
        public long Verified => Interlocked.Read(ref _verified);

        public FileCheck For(string relative, string name, FileStream file) => new(this, relative, name, file);

        internal sealed class FileCheck(PageCheck owner, string relative, string name, FileStream file)
        {
            private bool _aligned = true;

            /// <summary>Checks the pages of <paramref name="read"/>, the file's bytes from <paramref name="offset"/>.</summary>
            public void Check(ReadOnlySpan<byte> read, long offset)
            {
                if (!_aligned || offset % DataPage.Size != 0)
                {
                    _aligned = false;
                    return;
                }

                var at = 0;
                for (; at + DataPage.Size <= read.Length; at += DataPage.Size)
                {
                    var blockInFile = (offset + at) / DataPage.Size;
                    if (Problem(read.Slice(at, DataPage.Size), blockInFile, count: true) is null)
                    {
                        continue;
                    }

                    var again = new byte[DataPage.Size];
                    if (RandomAccess.Read(file.SafeFileHandle, again, offset + at) != DataPage.Size)
                    {
                        continue; // Cut short since: the file was truncated, and the WAL truncates it again.
                    }

                    if (Problem(again, blockInFile, count: false) is { } problem)
                    {
                        throw new BackupException(
                            "source_failed",
                            $"data page checksum failure in {relative}, block {blockInFile}: {problem}. The data directory is damaged; " +
                            "`steward verify` lists every damaged page and `steward repair` replaces them from a backup (docs/repair.md)");
                    }
                }

                _aligned = at == read.Length;
            }

            private string? Problem(ReadOnlySpan<byte> page, long blockInFile, bool count)
            {
                // A new page (pd_upper 0) and one written since the backup started are not checked (the WAL rewrites the latter).
                if (BinaryPrimitives.ReadUInt16LittleEndian(page[14..]) == 0 || DataPage.Lsn(page) >= owner._startLsn)
                {
                    return null;
                }

                if (count)
                {
                    Interlocked.Increment(ref owner._verified);
                }

                var expected = DataPage.Checksum(page, DataPage.ForkBlock(name, blockInFile));
                var stored = DataPage.StoredChecksum(page);
                return expected == stored ? null : $"checksum {stored} in the page, {expected} computed";
            }
        }
    }

    /// <summary>A file read as exactly <c>length</c> bytes: cut when it grew, zero-filled when it shrank; its pages checked when given a check.</summary>
    private sealed class FixedLengthStream(FileStream file, long length, PageCheck.FileCheck? pages) : Stream
    {
        private long _position;

        public override bool CanRead => true;

        public override bool CanSeek => true;

        public override bool CanWrite => false;

        public override long Length => length;

        public override long Position
        {
            get => _position;
            set => _position = value == _position ? value : throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            var want = (int)Math.Min(buffer.Length, length - _position);
            if (want <= 0)
            {
                return 0;
            }

            var read = file.Read(buffer[..want]);
            if (read == 0)
            {
                buffer[..want].Clear();
                read = want;
            }

            pages?.Check(buffer[..read], _position);
            _position += read;
            return read;
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            var want = (int)Math.Min(Math.Min(buffer.Length, ReadBytes), length - _position);
            if (want <= 0)
            {
                return 0;
            }

            var read = await file.ReadAsync(buffer[..want], cancellationToken);
            if (read == 0)
            {
                buffer.Span[..want].Clear();
                read = want;
            }

            pages?.Check(buffer.Span[..read], _position);
            _position += read;
            return read;
        }

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) =>
            origin == SeekOrigin.Begin && offset == _position ? _position : throw new NotSupportedException();

        public override void Flush()
        {
        }

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
