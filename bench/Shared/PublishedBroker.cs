using System.Diagnostics;

namespace Steward.Bench;

/// <summary>
/// Benchmarks measure the broker a user runs: <c>scripts/start.sh</c> publishes it ahead-of-time compiled
/// (ReadyToRun), so its first backup, restore or rebuild does not pay for compiling the code it runs. Publishes the
/// broker the same way into <c>.build/bench-server</c> (incremental: seconds when nothing changed) and points the
/// harness at it (<c>STEWARD_TEST_SERVER_DLL</c>); the tests keep running the build output.
/// </summary>
internal static class PublishedBroker
{
    public static void Use()
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "Steward.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd('/')) ?? throw new InvalidOperationException($"no Steward.sln above {AppContext.BaseDirectory}");
        }

        var output = Path.Combine(root, ".build", "bench-server");
        Console.WriteLine($"publishing the broker as scripts/start.sh does (ReadyToRun) into {output} ...");
        var psi = new ProcessStartInfo("sh", ["scripts/publish.sh", "server", output]) { WorkingDirectory = root };
        using var process = Process.Start(psi)!;
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"publishing the broker failed with exit code {process.ExitCode}");
        }

        Environment.SetEnvironmentVariable("STEWARD_TEST_SERVER_DLL", Path.Combine(output, "steward-server.dll"));
    }
}
