using System.Diagnostics;
using Steward.Backup.Sources;

namespace Steward.Backup.Tests.Sources;

public sealed class SecretDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("secret-sweep-").FullName;

    [Fact]
    public void A_password_directory_is_private_and_named_after_the_process_that_made_it()
    {
        var directory = SecretDirectory.Create();
        try
        {
            Path.GetFileName(directory).ShouldStartWith($"steward-secret-{Environment.ProcessId}-");
            File.GetUnixFileMode(directory).ShouldBe(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void The_sweep_removes_the_directories_of_processes_that_died_and_keeps_those_of_running_ones()
    {
        var dead = DeadProcessId();
        var running = Make($"steward-secret-{Environment.ProcessId}-abc123");
        var orphan = Make($"steward-secret-{dead}-def456");
        var legacy = Make("steward-secret-x1y2z3");
        var unrelated = Make("other-secret-1-abc");
        File.WriteAllText(Path.Combine(orphan, "pgpassfile"), "*:*:*:*:secret");

        SecretDirectory.SweepOrphans(_root).ShouldBe(2);

        Directory.Exists(running).ShouldBeTrue("a running broker's tool may still read its password");
        Directory.Exists(orphan).ShouldBeFalse("the password a killed broker left behind is removed");
        Directory.Exists(legacy).ShouldBeFalse("a directory without an owner's id is from before owners were named");
        Directory.Exists(unrelated).ShouldBeTrue("only Steward's own directories are touched");
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private string Make(string name) => Directory.CreateDirectory(Path.Combine(_root, name)).FullName;

    private static int DeadProcessId()
    {
        using var process = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        process.WaitForExit();
        return process.Id;
    }
}
