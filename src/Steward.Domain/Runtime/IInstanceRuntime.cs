namespace Steward.Runtime;

/// <summary>
/// A place where instances run. The local runtime runs each instance as a real server process on this
/// machine, as an unprivileged user when Steward is root; other runtimes (Kubernetes) implement the same
/// contract.
/// </summary>
public interface IInstanceRuntime
{
    /// <summary>The files of the instance with this internal id.</summary>
    InstancePaths PathsFor(string internalId);

    /// <summary>Creates the instance's directories empty, removing whatever a failed attempt left.</summary>
    Task CreateDirectoriesAsync(InstancePaths paths, CancellationToken cancellationToken);

    /// <summary>
    /// Creates an instance's place with what a runtime that gives each instance its own (a pod and a Service on
    /// Kubernetes) must know; by default <see cref="CreateDirectoriesAsync"/>, the shape being the engine's alone.
    /// </summary>
    Task CreateInstanceAsync(InstancePaths paths, InstanceShape shape, CancellationToken cancellationToken) => CreateDirectoriesAsync(paths, cancellationToken);

    /// <summary>
    /// Gives the instance's place the resources of <paramref name="shape"/> after a plan change, while its server is
    /// stopped (the caller starts it again): on Kubernetes the StatefulSet's memory request and limit, which replaces
    /// the pod. Nothing where servers run beside the broker (the plan's limits are the engine's configuration alone).
    /// Idempotent.
    /// </summary>
    Task ReshapeAsync(InstancePaths paths, InstanceShape shape, CancellationToken cancellationToken) => Task.CompletedTask;

    /// <summary>The address servers listen on: loopback where they run beside the broker, every address in a pod.</summary>
    string ListenAddress => "127.0.0.1";

    /// <summary>The network clients (the broker included) connect from, as a CIDR for the servers' access rules.</summary>
    string ClientNetwork => "127.0.0.1/32";

    /// <summary>The address clients connect to for the instance at <paramref name="paths"/> (its Service's cluster IP on Kubernetes).</summary>
    string ClientHost(InstancePaths paths) => "127.0.0.1";

    /// <summary>
    /// The first of <paramref name="paths"/> (files or directories, as the server sees them) that does not exist; null
    /// when all do, or when the runtime cannot tell now (then nothing is claimed missing).
    /// </summary>
    string? FirstMissing(IReadOnlyList<string> paths) => paths.FirstOrDefault(p => !File.Exists(p) && !Directory.Exists(p));

    /// <summary>
    /// The files directly in <paramref name="directory"/>, one of an instance's, by name with their text; empty when
    /// there is no such directory or the runtime cannot tell now.
    /// </summary>
    IReadOnlyDictionary<string, string> ReadFiles(string directory) =>
        Directory.Exists(directory)
            ? Directory.GetFiles(directory).ToDictionary(f => Path.GetFileName(f), File.ReadAllText, StringComparer.Ordinal)
            : new Dictionary<string, string>(StringComparer.Ordinal);

    /// <summary>
    /// Copies the files directly in <paramref name="source"/> into <paramref name="target"/> (made when missing, files of
    /// the same name replaced), both directories of one instance; nothing when <paramref name="source"/> does not exist.
    /// </summary>
    Task CopyFilesAsync(string source, string target, CancellationToken cancellationToken)
    {
        if (Directory.Exists(source))
        {
            Directory.CreateDirectory(target);
            foreach (var file in Directory.GetFiles(source))
            {
                File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>Removes a file written with <see cref="WriteFileAsync"/> (a password file once it has served); nothing when it is gone.</summary>
    Task DeleteFileAsync(string path, CancellationToken cancellationToken)
    {
        File.Delete(path);
        return Task.CompletedTask;
    }

    /// <summary>Writes a file the server will read, owned by the service user and readable by it only.</summary>
    Task WriteFileAsync(string path, string content, CancellationToken cancellationToken);

    /// <summary>
    /// Copies a file the server will read (e.g. from a preserved directory it cannot reach) to
    /// <paramref name="destination"/>, owned by the service user and readable by it only; the name appears only
    /// once the copy is complete and on disk.
    /// </summary>
    Task CopyFileAsync(string source, string destination, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a short-lived tool for an instance as the service user, inside the instance's directory (so a
    /// tool orphaned by a broker crash is found and stopped with the instance), and captures its output.
    /// </summary>
    Task<ToolResult> RunToolAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken);

    /// <summary>
    /// As <see cref="RunToolAsync(InstancePaths, string, IReadOnlyList{string}, IReadOnlyDictionary{string, string}?, CancellationToken)"/>,
    /// with <paramref name="input"/> writing the tool's standard input (a restore streaming into the instance's files).
    /// The tool sees the end of its input only when <paramref name="input"/> returns; when it throws, the tool is
    /// stopped without seeing a clean end, the result is not returned and the exception propagates.
    /// </summary>
    Task<ToolResult> RunToolWithInputAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, Func<Stream, CancellationToken, Task> input, CancellationToken cancellationToken);

    /// <summary>True when the file or directory exists among the instance's files (as the server sees them).</summary>
    Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) => Task.FromResult(File.Exists(path) || Directory.Exists(path));

    /// <summary>Renames a file or directory of an instance to another name of the same instance (a rename, never a copy).</summary>
    Task MoveAsync(string source, string destination, CancellationToken cancellationToken)
    {
        if (Directory.Exists(source))
        {
            Directory.Move(source, destination);
        }
        else
        {
            File.Move(source, destination);
        }

        return Task.CompletedTask;
    }

    /// <summary>Removes a directory of an instance with everything in it; nothing when it is gone.</summary>
    Task DeleteDirectoryAsync(string path, CancellationToken cancellationToken)
    {
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }

        return Task.CompletedTask;
    }

    /// <summary>Starts the server so that it outlives the broker; the runtime records its pid and, later, its exit status.</summary>
    Task StartAsync(InstancePaths paths, ProcessLaunch launch, CancellationToken cancellationToken);

    /// <summary>What the server process is doing now, including whether something stopped it.</summary>
    ProcessStatus GetStatus(InstancePaths paths);

    /// <summary>
    /// As <see cref="GetStatus"/>, cheap enough to ask for every instance several times a second: an exit is reported at
    /// once, but a runtime that learns of exits as they happen may report a running server's scheduler state (stopped
    /// or not) as of a look up to a second old. By default <see cref="GetStatus"/>.
    /// </summary>
    ProcessStatus GetRecentStatus(InstancePaths paths) => GetStatus(paths);

    /// <summary>True when the server's absence was asked for (<see cref="StopAsync"/> since its last start): not a failure.</summary>
    bool WasStoppedOnPurpose(InstancePaths paths);

    /// <summary>
    /// Continues the instance's processes that something stopped (SIGSTOP); returns how many were stopped.
    /// Nothing is killed.
    /// </summary>
    int Resume(InstancePaths paths);

    /// <summary>
    /// What is wrong with the instance's data directory as its server sees it, or null when nothing is: missing,
    /// or removed from under a running server (which then writes into a directory nobody can reach).
    /// </summary>
    string? DataDirectoryProblem(InstancePaths paths);

    /// <summary>
    /// Creates <paramref name="name"/> in a place of the instance outside its data directory, writable by the
    /// server and private to the service user, for data rescued from a running server. Returns its path.
    /// </summary>
    Task<string> CreateRescueDirectoryAsync(InstancePaths paths, string name, CancellationToken cancellationToken);

    /// <summary>The server's log lines written since its last start, the newest <paramref name="max"/>.</summary>
    IReadOnlyList<string> ServerLogSinceLastStart(InstancePaths paths, int max = 200);

    /// <summary>Bytes free where the instance keeps its files; null when the runtime cannot tell.</summary>
    long? FreeBytes(InstancePaths paths);

    /// <summary>Memory the machine can still give new servers without swapping (the kernel's MemAvailable); null when the runtime cannot tell.</summary>
    long? AvailableMemoryBytes();

    /// <summary>
    /// How many processes the kernel's OOM killer has ended among the instances so far (a running total); null
    /// when the runtime cannot tell OOM kills from other SIGKILLs.
    /// </summary>
    long? OomKills();

    /// <summary>Asks the server to stop with <paramref name="signal"/>; kills it after <paramref name="grace"/>.</summary>
    Task StopAsync(InstancePaths paths, int signal, TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>Removes every file of the instance. The server must be stopped.</summary>
    Task DeleteAsync(InstancePaths paths, CancellationToken cancellationToken);

    /// <summary>
    /// Moves every file of the instance aside, kept for inspection under <paramref name="name"/> in the runtime's
    /// place for preserved files, and returns where; <paramref name="at"/> is recorded as when (for retention).
    /// Whatever still runs in the instance's files is stopped first. Idempotent: when the files were moved
    /// already, returns the same place; the instance's own place is empty afterwards.
    /// </summary>
    Task<string> PreserveAsync(InstancePaths paths, string name, DateTimeOffset at, CancellationToken cancellationToken);

    /// <summary>Preserved copies (<see cref="PreserveAsync"/>) with when they were preserved, oldest first.</summary>
    IReadOnlyList<(string Path, DateTimeOffset PreservedAt)> ListPreserved();

    /// <summary>Removes one preserved copy.</summary>
    Task DeletePreservedAsync(string path, CancellationToken cancellationToken);

    /// <summary>True when nothing listens on the loopback port and it can be bound.</summary>
    bool IsPortFree(int port);

    /// <summary>Creates an empty directory owned by and private to the service user.</summary>
    Task CreatePrivateDirectoryAsync(string path, CancellationToken cancellationToken);

    /// <summary>False when data directories cannot be prepared ahead and taken by a rename (each instance has its own volume).</summary>
    bool SupportsWarmPool => true;

    /// <summary>
    /// True when the broker and the instances' servers share one file system, so the broker can write a file that a
    /// server then takes by a rename (the WAL read ahead into an instance's spool); false when each instance has its
    /// own volume.
    /// </summary>
    bool SharesFiles => SupportsWarmPool;

    /// <summary>
    /// Creates <paramref name="path"/> (new, for writing) as a file the server will take: owned by the service user
    /// and readable by it only. Only where <see cref="SharesFiles"/>.
    /// </summary>
    FileStream CreateServerFile(string path) => new(path, new FileStreamOptions
    {
        Mode = FileMode.CreateNew,
        Access = FileAccess.Write,
        Share = FileShare.None,
        BufferSize = 0,
        Options = FileOptions.Asynchronous,
        UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
    });

    /// <summary>The files of one warm-pool entry: beside the instances, on the same file system, so taking it is a rename.</summary>
    InstancePaths PoolPathsFor(string entryId);

    /// <summary>The names of the warm-pool entries that have files.</summary>
    IReadOnlyList<string> ListPoolEntries();

    /// <summary>
    /// Gives the instance at <paramref name="paths"/> the data directory prepared at <paramref name="prepared"/> (a
    /// rename) and removes the rest of the entry. Returns false when the entry's data directory is gone and the
    /// instance has none either (nothing to adopt). Idempotent: when it moved already, only the rest is removed.
    /// </summary>
    Task<bool> AdoptPreparedAsync(InstancePaths prepared, InstancePaths paths, CancellationToken cancellationToken);
}
