using System.Collections.Concurrent;
using Steward.Backup.Integrity;
using Steward.Engines.PostgreSql.Wal;
using Steward.Runtime;
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
/// <para>
/// While a server replays the archive in a recovery the broker runs (<see cref="AttachAsync"/>), the read-ahead goes
/// instead into that instance's own spool beside its data directory (<c>{root}/wal-spool</c>, the service user's,
/// 0700), under a hidden partial name until it is complete and verified, then renamed to the file's own name: its
/// restore_command takes it from there by a rename (pgBackRest's spool of asynchronous <c>archive-get</c>), and asks
/// the broker over HTTP only for what is not there. The broker sees the files go, and fetches further ahead.
/// </para>
/// </summary>
internal sealed class WalSpool(
    WalArchive archive,
    WalSettings settings,
    StewardOptions options,
    StewardMetrics metrics,
    IInstanceRuntime runtime,
    TimeProvider time,
    ILogger<WalSpool> logger) : IHostedService, IDisposable
{
    /// <summary>How long an instance's spool outlives its last request (a recovery that ended without the broker knowing, a rehearsal).</summary>
    private static readonly TimeSpan Idle = TimeSpan.FromSeconds(60);

    /// <summary>How often an instance's own spool is looked at for the segments its server took.</summary>
    private static readonly TimeSpan Watch = TimeSpan.FromMilliseconds(40);

    /// <summary>The name of the file in <see cref="Root"/> that records where an instance's own spool is, for the sweep at start.</summary>
    private const string MarkerSuffix = ".instance-spool";

    private readonly Lock _sweep = new();
    private bool _swept;

    private readonly ConcurrentDictionary<string, InstanceSpool> _spools = new();
    private ITimer? _sweeper;
    private long _sequence;

    /// <summary>Where the spools live.</summary>
    public string Root { get; } = Path.Combine(options.DataDir, "wal-spool");

    /// <summary>Removes what a previous broker left (it may have been killed mid-replay), then expires idle spools.</summary>
    public Task StartAsync(CancellationToken cancellationToken)
    {
        SweepOnce();
        _sweeper = time.CreateTimer(_ => ExpireIdle(), null, TimeSpan.FromSeconds(10), TimeSpan.FromSeconds(10));
        return Task.CompletedTask;
    }

    /// <summary>
    /// Before anything is spooled: removes the broker's spools and the instances' own spools (found through their
    /// markers) that a previous broker left.
    /// </summary>
    private void SweepOnce()
    {
        lock (_sweep)
        {
            if (_swept)
            {
                return;
            }

            _swept = true;
            if (Directory.Exists(Root))
            {
                foreach (var left in Directory.EnumerateDirectories(Root))
                {
                    var files = Directory.EnumerateFiles(left).Count();
                    Directory.Delete(left, recursive: true);
                    WalLog.SpoolSwept(logger, Path.GetFileName(left), files);
                }

                foreach (var marker in Directory.EnumerateFiles(Root, "*" + MarkerSuffix))
                {
                    var instanceId = Path.GetFileName(marker)[..^MarkerSuffix.Length];
                    var left = File.ReadAllText(marker).Trim();
                    if (Path.GetFileName(left) == WalHelper.SpoolName && Directory.Exists(left))
                    {
                        var files = Directory.EnumerateFiles(left).Count();
                        Directory.Delete(left, recursive: true);
                        WalLog.InstanceSpoolSwept(logger, instanceId, left, files);
                    }

                    File.Delete(marker);
                }
            }

            Directory.CreateDirectory(Root, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _sweeper?.Dispose();
        return Task.WhenAll(_spools.Keys.Select(ReleaseAsync));
    }

    public void Dispose() => _sweeper?.Dispose();

    /// <summary>The directory of one instance's spool.</summary>
    public string DirectoryOf(string instanceId) => Path.Combine(Root, instanceId);

    /// <summary>
    /// A server is about to replay the archive for <paramref name="instanceId"/> in <paramref name="paths"/>: the
    /// read-ahead goes into that instance's own spool from now on, emptied first (what an earlier recovery left may
    /// come from another archive). Nothing changes where the broker cannot write into the instance's files, or
    /// without read-ahead.
    /// </summary>
    public async Task AttachAsync(string instanceId, InstancePaths paths, CancellationToken cancellationToken)
    {
        SweepOnce();
        if (!runtime.SharesFiles || settings.RestorePrefetch == 0)
        {
            return;
        }

        var directory = Path.Combine(paths.Root, WalHelper.SpoolName);
        var spool = _spools.GetOrAdd(instanceId, id => new InstanceSpool(DirectoryOf(id)));
        spool.Touch(time.GetTimestamp());
        if (spool.ServerDirectory == directory && Directory.Exists(directory))
        {
            return; // the same recovery, its server started again
        }

        // The marker first: a broker killed from here on leaves a spool its successor finds.
        await File.WriteAllTextAsync(Path.Combine(Root, instanceId + MarkerSuffix), directory + "\n", cancellationToken);
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }

        await runtime.CreatePrivateDirectoryAsync(directory, cancellationToken);
        spool.AttachServer(directory, () => WatchAsync(instanceId, spool));
    }

    /// <summary>
    /// As <see cref="AttachAsync(string, InstancePaths, CancellationToken)"/>, and starts reading ahead at once from
    /// <paramref name="first"/> in <paramref name="archiveOf"/>'s archive: the segment the restored backup's recovery
    /// starts in, known before the server runs. Called before the backup is unpacked, the first segments are in the
    /// instance's spool when its server asks for them, instead of being fetched while recovery waits (rebuild bench:
    /// the first one took 0.11-0.28 s).
    /// </summary>
    public async Task AttachAsync(string instanceId, InstancePaths paths, string archiveOf, WalName first, CancellationToken cancellationToken)
    {
        await AttachAsync(instanceId, paths, cancellationToken);
        if (!runtime.SharesFiles || settings.RestorePrefetch == 0 || !_spools.TryGetValue(instanceId, out var spool))
        {
            return;
        }

        spool.ArchiveOf = archiveOf;
        spool.Ahead(first.Name, () => PrefetchAsync(spool, archiveOf, first.Name));
        ReadAhead(spool, archiveOf, first);
    }

    /// <summary>
    /// The verified plaintext of one WAL file for <paramref name="requester"/>'s recovery, read from
    /// <paramref name="archiveOf"/>'s archive, as a stream over a spool file that is already unlinked (it goes when the
    /// stream is disposed); null when the file was never archived.
    /// </summary>
    public async Task<Stream?> FetchAsync(string requester, string archiveOf, WalName name, CancellationToken cancellationToken)
    {
        var spool = _spools.GetOrAdd(requester, id => new InstanceSpool(DirectoryOf(id)));
        spool.Touch(time.GetTimestamp());
        spool.ArchiveOf = archiveOf;

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
            ReadAhead(spool, archiveOf, name);
        }

        return served;
    }

    /// <summary>Recovery is at <paramref name="name"/>: what it moved past goes, and the next segments are fetched ahead.</summary>
    private void ReadAhead(InstanceSpool spool, string archiveOf, WalName name)
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

    /// <summary>
    /// Follows an instance's own spool: each segment its server took (renamed into pg_wal) counts as served, and the
    /// read-ahead moves on past it.
    /// </summary>
    private async Task WatchAsync(string instanceId, InstanceSpool spool)
    {
        try
        {
            while (true)
            {
                await Task.Delay(Watch, time, spool.Cancellation);
                var taken = spool.TakenByServer();
                if (taken.Count == 0)
                {
                    continue;
                }

                spool.Touch(time.GetTimestamp());
                foreach (var _ in taken)
                {
                    metrics.WalRestored(instanceId, "rename");
                }

                if (spool.ArchiveOf is { } archiveOf)
                {
                    ReadAhead(spool, archiveOf, taken.MaxBy(n => (n.Timeline, n.Segment))!);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Released.
        }
    }

    /// <summary>
    /// Removes an instance's spools (its restore ended): read-ahead in progress is cancelled and waited for, then the
    /// broker's spool and the instance's own spool go.
    /// </summary>
    public async Task ReleaseAsync(string instanceId)
    {
        if (_spools.TryRemove(instanceId, out var spool))
        {
            spool.Cancel();
            var all = spool.TakeAll();
            foreach (var dropped in all)
            {
                DropWhenDone(dropped);
            }

            // Bounded: a read-ahead stuck in storage must not hold up the end of a restore; what it leaves is swept.
            await Task.WhenAny(Task.WhenAll(all.Append(spool.Watcher)), Task.Delay(TimeSpan.FromSeconds(10), time)).ContinueWith(_ => { }, TaskScheduler.Default);
            if (spool.ServerDirectory is { } own && TryDelete(own))
            {
                Delete(Path.Combine(Root, instanceId + MarkerSuffix));
            }
        }

        TryDelete(DirectoryOf(instanceId));
    }

    private static bool TryDelete(string directory)
    {
        try
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }

            return true;
        }
        catch (IOException)
        {
            // A read-ahead finishing at this moment: the idle sweep or the next start takes what it leaves.
            return false;
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

        if (spooled is null || (spooled.InServerSpool && !File.Exists(spooled.Path)))
        {
            // Not archived when it was fetched ahead (asked again, it may be now), or the server took it from its
            // spool already and asks for it again.
            return null;
        }

        Stream? stream = null;
        try
        {
            stream = OpenUnlinked(spooled.Path);
            var digest = await ContentHasher.OfAsync(stream, spooled.File.PlaintextDigest);
            if (ContentHasher.Same(digest, spooled.File.PlaintextDigest))
            {
                stream.Position = 0;
                return stream;
            }

            WalLog.SpoolCopyDamaged(logger, requester, name, ContentHasher.Short(spooled.File.PlaintextDigest), ContentHasher.Short(digest));
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
        var sequence = Interlocked.Increment(ref _sequence);

        // Into the instance's own spool under a hidden name no restore_command asks for, renamed once verified.
        var own = spool.ServerDirectory is { } server && Directory.Exists(server) ? server : null;
        var path = own is null ? spool.NewPath(name, sequence) : Path.Combine(own, $".{name}.{sequence}.partial");
        try
        {
            WalFile? file;
            await using (var written = own is null ? Create(path) : runtime.CreateServerFile(path))
            {
                file = await archive.ReadToAsync(archiveOf, name, written, token);
            }

            if (file is null || token.IsCancellationRequested)
            {
                Delete(path);
                return null;
            }

            if (own is null)
            {
                return new Spooled(file, path, InServerSpool: false);
            }

            var final = Path.Combine(own, name);
            File.Move(path, final, overwrite: true);
            return new Spooled(file, final, InServerSpool: true);
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
                _ = ReleaseAsync(instanceId);
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
    private sealed record Spooled(WalFile File, string Path, bool InServerSpool);

    /// <summary>One instance's spool: its directory and its read-ahead, newest request first.</summary>
    private sealed class InstanceSpool(string directory)
    {
        private readonly Dictionary<string, Task<Spooled?>> _ahead = new(StringComparer.Ordinal);
        private readonly CancellationTokenSource _cancel = new();
        private long _lastUsed;

        public string Directory { get; } = directory;

        /// <summary>The instance's own spool, where its server takes segments by a rename; null: served over HTTP only.</summary>
        public string? ServerDirectory { get; private set; }

        /// <summary>Whose archive the read-ahead reads (the last request's).</summary>
        public string? ArchiveOf { get; set; }

        /// <summary>Follows <see cref="ServerDirectory"/> (<see cref="WatchAsync"/>).</summary>
        public Task Watcher { get; private set; } = Task.CompletedTask;

        public void AttachServer(string directory, Func<Task> watch)
        {
            lock (_ahead)
            {
                ServerDirectory = directory;
                if (!_cancel.IsCancellationRequested && Watcher.IsCompleted)
                {
                    Watcher = Task.Run(watch);
                }
            }
        }

        /// <summary>Takes out the read-ahead the server has renamed out of its spool, and returns their names.</summary>
        public List<WalName> TakenByServer()
        {
            lock (_ahead)
            {
                var taken = new List<WalName>();
                foreach (var (name, ahead) in _ahead.ToList())
                {
                    if (ahead.IsCompletedSuccessfully && ahead.Result is { InServerSpool: true } spooled && !File.Exists(spooled.Path) && WalName.Parse(name) is { } n)
                    {
                        _ahead.Remove(name);
                        taken.Add(n);
                    }
                }

                return taken;
            }
        }

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
