using System.Diagnostics;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Lifecycle;

/// <summary>
/// A fresh machine: the service user does not exist yet and several brokers start at once. Each must end up
/// running its instances as the one account that really exists.
/// </summary>
public sealed class ServiceAccountTests
{
    [Fact]
    public async Task Brokers_started_together_create_a_missing_service_user_once_and_every_provision_succeeds()
    {
        Environment.IsPrivilegedProcess.ShouldBeTrue("this test creates a system user: run the suite as root, as the README's test command does");
        var user = "stw" + Guid.NewGuid().ToString("N")[..9];
        (await RunAsync("getent", "passwd", user)).ExitCode.ShouldBe(2, $"user {user} must not exist before the test");
        var brokers = new List<StewardServer>();
        try
        {
            var environment = new Dictionary<string, string> { ["STEWARD_SERVICE_USER"] = user };
            brokers.AddRange(await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => StewardServer.StartAsync(environment))));

            await Task.WhenAll(brokers.Select(b => b.Client.ProvisionReadyAsync("pg-" + Guid.NewGuid().ToString("N")[..8], Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone)));

            var entries = (await RunAsync("getent", "passwd", user)).Output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
            entries.Length.ShouldBe(1, "the name service knows the account exactly once");
            File.ReadAllLines("/etc/passwd").Count(l => l.StartsWith(user + ":", StringComparison.Ordinal)).ShouldBe(1, "/etc/passwd holds the account exactly once");
            var uid = entries[0].Split(':')[2];
            foreach (var broker in brokers)
            {
                var dataDir = Path.Combine(broker.InstanceDirectories().ShouldHaveSingleItem(), "data");
                (await RunAsync("stat", "-c", "%u", dataDir)).Output.Trim().ShouldBe(uid, "the instance's files belong to the account that exists");
            }
        }
        finally
        {
            foreach (var broker in brokers)
            {
                await broker.DisposeAsync();
            }

            await RunAsync("userdel", user);
        }
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(string file, params string[] arguments)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment["PATH"] = "/usr/sbin:/usr/bin:/sbin:/bin";
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }
}
