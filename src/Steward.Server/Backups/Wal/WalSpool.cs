using System.Collections.Concurrent;
using System.Security.Cryptography;
using Steward.Server.Configuration;
using Steward.Server.Metrics;
using Steward.Wal;

namespace Steward.Server.Backups.Wal;

/// <summary>
/// What a recovering server's <c>restore_command</c> is served from: each WAL file is streamed from storage through
/// the filters into a file of the requesting instance's spool directory (<c>{data}/wal-spool/{instance}/</c>, the
/// broker's own, mode 0700), and served from that file, so the broker holds no segment in memory. While recovery
/// reads segments in order, the next few are fetched into the spool ahead of it (pgBackRest's asynchronous
/// <c>archive-get</c> queue), at most <see cref="WalSettings.RestorePrefetch"/> per instance, two at a time. A spooled
/// file is checked against the digest Steward recorded at archive time again when it is served: a damaged copy is
/// dropped and the file read from storage instead. An instance's spool is removed when its restore ends, after a
/// minute without requests, and (whatever a killed broker left) at start.
/// </summary>
internal sealed class WalSpool(
    WalArchive archive,
    WalSettings settings,
    StewardOptions options,
    StewardMetrics metrics,
    TimeProvider time,
    ILogger<WalSpool> logger) : IHostedService, IDisposable
{
    /// <summary>How long an instance's spool outlives its last request (a recovery that ended without the broker knowing, a rehearsal).</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    private readonly ConcurrentDictionary<string, InstanceSpool> _spools = new();
    private ITimer? _sweeper;
    private long _sequence;

    /// <summary>Where the spools live.</summary>
    public string Root { get; } = Path.Combine(options.DataDir, "wal-spool");

    /// <summary>Removes what a previous broker left (it may have been killed mid-replay), then expires idle spools.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        if (Directory.Exists(Root))
        {
            foreach (var left in Directory.EnumerateDirectories(Root))
            {
                var files = Directory.EnumerateFiles(left).Count();
                Directory.Delete(left, recursive: true);
                WalLog.SpoolSwept(logger, Path.GetFileName(left), files);
            }
        }

        Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        _sweeper = time.CreateTimer(_ => ExpireIdle(), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sweeper?.Dispose();
        foreach (var instanceId in _spools.Keys)
        {
            Release(instanceId);
        }

        return Task.CompletedTask;
    }

    public void Dispose() => _sweeper?.Dispose();

    /// <summary>The directory of one instance's spool.</summary>
    public string DirectoryOf(string instanceId) => Path.Combine(Root, instanceId);

    /// <summary>
    /// The verified plaintext of one WAL file for <paramref name="requester"/>'s recovery, read from
    /// <paramref name="archiveOf"/>'s archive, as a stream over a spool file that is already unlinked (it goes when the
    /// stream is disposed); null when the file was never archived.
    /// </summary>
    public async Task<Stream?> FetchAsync(string requester, string archiveOf, WalName name, CancellationToken cancellationToken)
    {
        var spool = _spools.GetOrAdd(requester, id => new InstanceSpool(DirectoryOf(id)));
        spool.Touch(time.GetTimestamp());

        Stream? served = null;
        if (spool.Take(name.Name) is { } ahead)
        {
            served = await FromSpoolAsync(requester, name.Name, ahead);
        }

        WalFile? file = null;
        if (served is null)
        {
            Directory.CreateDirectory(spool.Directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            var path = spool.NewPath(name.Name, Interlocked.Increment(ref _sequence));
            await using (var written = Create(path))
            {
                try
                {
                    file = await archive.ReadToAsync(archiveOf, name.Name, written, cancellationToken);
                }
                catch
                {
                    Delete(path);
                    throw;
                }
            }

            served = file is null ? null : OpenUnlinked(path);
            if (served is null)
            {
                Delete(path);
                return null;
            }

            metrics.WalRestored(requester, "storage");
        }
        else
        {
            metrics.WalRestored(requester, "spool");
        }

        if (name.Kind == WalFileKind.Segment)
        {
            foreach (var dropped in spool.KeepAfter(name))
            {
                DropWhenDone(dropped);
            }

            for (var i = 1; i <= settings.RestorePrefetch; i++)
            {
                var next = WalName.SegmentName(name.Timeline, name.Segment + i);
                spool.Ahead(next, () => PrefetchAsync(spool, archiveOf, next));
            }
        }

        return served;
    }

    /// <summary>Removes an instance's spool (its restore ended): read-ahead in progress is cancelled, files go.</summary>
    public void Release(string instanceId)
    {
        if (_spools.TryRemove(instanceId, out var spool))
        {
            spool.Cancel();
            foreach (var dropped in spool.TakeAll())
            {
                DropWhenDone(dropped);
            }
        }

        try
        {
            if (Directory.Exists(DirectoryOf(instanceId)))
            {
                Directory.Delete(DirectoryOf(instanceId), recursive: true);
            }
        }
        catch (IOException)
        {
            // A read-ahead finishing at this moment: the idle sweep or the next start takes what it leaves.
        }
    }

    private async Task<Stream?> FromSpoolAsync(string requester, string name, Task<Spooled?> ahead)
    {
        Spooled? spooled;
        try
        {
            spooled = await ahead;
        }
        catch (Exception ex)
        {
            // The read-ahead failed (storage hiccup, damaged object): the file is asked for again, and a real
            // failure surfaces on that request.
            WalLog.SpoolReadAheadFailed(logger, requester, name, ex.Message);
            return null;
        }

        if (spooled is null)
        {
            return null; // not archived when it was fetched ahead: asked again, it may be now
        }

        Stream? stream = null;
        try
        {
            stream = OpenUnlinked(spooled.Path);
            var digest = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream));
            if (string.Equals(digest, spooled.File.PlaintextSha256, StringComparison.OrdinalIgnoreCase))
            {
                stream.Position = 0;
                return stream;
            }

            WalLog.SpoolCopyDamaged(logger, requester, name, spooled.File.PlaintextSha256[..16], digest[..16]);
        }
        catch (IOException ex)
        {
            WalLog.SpoolReadAheadFailed(logger, requester, name, ex.Message);
        }

        if (stream is not null)
        {
            await stream.DisposeAsync();
        }

        return null;
    }

    private async Task<Spooled?> PrefetchAsync(InstanceSpool spool, string archiveOf, string name)
    {
        var token = spool.Cancellation;
        await spool.Fetches.WaitAsync(token);
        var path = spool.NewPath(name, Interlocked.Increment(ref _sequence));
        try
        {
            WalFile? file;
            await using (var written = Create(path))
            {
                file = await archive.ReadToAsync(archiveOf, name, written, token);
            }

            if (file is null)
            {
                Delete(path);
                return null;
            }

            return new Spooled(file, path);
        }
        catch
        {
            Delete(path);
            throw;
        }
        finally
        {
            spool.Fetches.Release();
        }
    }

    /// <summary>A read-ahead nobody will ask for: its file goes once it is written.</summary>
    private static void DropWhenDone(Task<Spooled?> ahead) =>
        _ = ahead.ContinueWith(t => Delete(t.IsCompletedSuccessfully ? t.Result?.Path : null), CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);

    private void ExpireIdle()
    {
        var now = time.GetTimestamp();
        foreach (var (instanceId, spool) in _spools)
        {
            if (time.GetElapsedTime(spool.LastUsed, now) > Idle)
            {
                Release(instanceId);
            }
        }
    }

    private static FileStream Create(string path) =>
        new(path, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            BufferSize = 0,
            Options = FileOptions.Asynchronous,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        });

    /// <summary>Opens the file and unlinks it at once: the open stream keeps the bytes until it is disposed, and nothing is left behind.</summary>
    private static FileStream OpenUnlinked(string path)
    {
        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, 64 * 1024, FileOptions.Asynchronous | FileOptions.SequentialScan);
        File.Delete(path);
        return stream;
    }

    private static void Delete(string? path)
    {
        try
        {
            if (path is not null)
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
            // Its directory went with a released spool.
        }
    }

    /// <summary>A WAL file fetched ahead: the record it was verified against and where its plaintext is.</summary>
    private sealed record Spooled(WalFile File, string Path);

    /// <summary>One instance's spool: its directory and its read-ahead, newest request first.</summary>
    private sealed class InstanceSpool(string directory)
    {
        private readonly Dictionary<string, Task<Spooled?>> _ahead = new(StringComparer.Ordinal);
        private readonly CancellationTokenSource _cancel = new();
        private long _lastUsed;

        public string Directory { get; } = directory;

        /// <summary>Read-ahead runs two at a time per instance, so the next segment is not starved by the eighth.</summary>
        public SemaphoreSlim Fetches { get; } = new(2, 2);

        public CancellationToken Cancellation => _cancel.Token;

        public long LastUsed => Interlocked.Read(ref _lastUsed);

        public void Touch(long timestamp) => Interlocked.Exchange(ref _lastUsed, timestamp);

        public string NewPath(string name, long sequence) => System.IO.Path.Combine(Directory, $"{name}.{sequence}");

        public Task<Spooled?>? Take(string name)
        {
            lock (_ahead)
            {
                return _ahead.Remove(name, out var ahead) ? ahead : null;
            }
        }

        /// <summary>Starts a read-ahead of <paramref name="name"/> unless one is there already.</summary>
        public void Ahead(string name, Func<Task<Spooled?>> fetch)
        {
            lock (_ahead)
            {
                if (!_cancel.IsCancellationRequested && !_ahead.ContainsKey(name))
                {
                    _ahead[name] = Task.Run(fetch);
                }
            }
        }

        /// <summary>
        /// Takes out the read-ahead recovery has moved past: segments before <paramref name="served"/>, and those of
        /// another timeline (recovery follows one timeline at a time), so the spool never holds more than the
        /// read-ahead of one position.
        /// </summary>
        public List<Task<Spooled?>> KeepAfter(WalName served)
        {
            lock (_ahead)
            {
                var dropped = new List<Task<Spooled?>>();
                foreach (var (name, ahead) in _ahead.ToList())
                {
                    if (WalName.Parse(name) is { Kind: WalFileKind.Segment } n && (n.Segment < served.Segment || n.Timeline != served.Timeline))
                    {
                        _ahead.Remove(name);
                        dropped.Add(ahead);
                    }
                }

                return dropped;
            }
        }

        public List<Task<Spooled?>> TakeAll()
        {
            lock (_ahead)
            {
                var all = _ahead.Values.ToList();
                _ahead.Clear();
                return all;
            }
        }

        public void Cancel()
        {
            lock (_ahead)
            {
                _cancel.Cancel();
            }
        }
    }
}
