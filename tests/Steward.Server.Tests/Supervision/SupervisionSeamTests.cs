namespace Steward.Server.Tests.Supervision;

/// <summary>
/// Supervision reads runtime facts (process state, exit status, OOM kills, free space, the data directory, the
/// server's log) only through IInstanceRuntime, so another runtime (Kubernetes) plugs in without touching it.
/// </summary>
public sealed class SupervisionSeamTests
{
    private static readonly string[] RuntimeInternals =
    [
        "/proc", "/sys/", "cgroup", "RunDir", "LogFile", "stop.requested", "exit.status", "server.pid", "DriveInfo", "Process.", "Native.",
    ];

    [Fact]
    public void Supervision_code_reads_no_process_or_file_system_fact_around_the_runtime()
    {
        var folder = Path.Combine(RepositoryRoot(), "src", "Steward.Server", "Supervision");
        var offenders = Directory.EnumerateFiles(folder, "*.cs")
            .SelectMany(file => RuntimeInternals
                .Where(term => File.ReadAllText(file).Contains(term, StringComparison.Ordinal))
                .Select(term => $"{Path.GetFileName(file)} uses {term}"))
            .Where(hit => !hit.StartsWith("ConfigSnapshot.cs uses RunDir", StringComparison.Ordinal)) // Steward's own copy of the configuration it wrote
            .ToList();
        offenders.ShouldBeEmpty();
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Steward.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("Steward.sln not found above " + AppContext.BaseDirectory);
    }
}
