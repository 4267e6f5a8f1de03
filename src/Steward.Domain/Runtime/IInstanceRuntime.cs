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

    /// <summary>Writes a file the server will read, owned by the service user and readable by it only.</summary>
    Task WriteFileAsync(string path, string content, CancellationToken cancellationToken);

    /// <summary>
    /// Runs a short-lived tool for an instance as the service user, inside the instance's directory (so a
    /// tool orphaned by a broker crash is found and stopped with the instance), and captures its output.
    /// </summary>
    Task<ToolResult> RunToolAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken);

    /// <summary>Starts the server so that it outlives the broker; the runtime records its pid and, later, its exit status.</summary>
    Task StartAsync(InstancePaths paths, ProcessLaunch launch, CancellationToken cancellationToken);

    /// <summary>What the server process is doing now.</summary>
    ProcessStatus GetStatus(InstancePaths paths);

    /// <summary>Asks the server to stop with <paramref name="signal"/>; kills it after <paramref name="grace"/>.</summary>
    Task StopAsync(InstancePaths paths, int signal, TimeSpan grace, CancellationToken cancellationToken);

    /// <summary>Removes every file of the instance. The server must be stopped.</summary>
    Task DeleteAsync(InstancePaths paths, CancellationToken cancellationToken);

    /// <summary>True when nothing listens on the loopback port and it can be bound.</summary>
    bool IsPortFree(int port);

    /// <summary>Creates an empty directory owned by and private to the service user.</summary>
    Task CreatePrivateDirectoryAsync(string path, CancellationToken cancellationToken);

    /// <summary>The command line that runs <paramref name="fileName"/> as the service user.</summary>
    (string FileName, IReadOnlyList<string> Arguments) AsServiceUser(string fileName, IReadOnlyList<string> arguments);
}
