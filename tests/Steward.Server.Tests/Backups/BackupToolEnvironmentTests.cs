using System.Globalization;
using System.Text;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Server.Tests.Backups;

/// <summary>The tools a backup runs get the credentials they need through a private file, never their environment, and none of the broker's own secrets.</summary>
[Collection("backups")]
public sealed class BackupToolEnvironmentTests(BackupBrokers brokers)
{
    [Fact]
    public async Task A_running_pg_basebackup_has_no_password_or_S3_secret_in_its_environment()
    {
        var server = brokers.S3Broker;
        var osb = server.Client;
        var id = "pg-env-" + Guid.NewGuid().ToString("N")[..6];
        await osb.ProvisionReadyAsync(id, Catalogs.PostgreSql, Catalogs.PostgreSqlStandalone);

        // The tool lives for about a second: watch the broker's children while backups run until one is caught.
        string? environ = null;
        for (var attempt = 0; attempt < 5 && environ is null; attempt++)
        {
            using var stop = new CancellationTokenSource();
            var watch = Task.Run(() => CatchChildEnvironment(server.Pid!.Value, "pg_basebackup", stop.Token));
            var done = await osb.WaitBackupAsync(await osb.StartBackupAsync(id, "physical"));
            await stop.CancelAsync();
            done.GetProperty("state").GetString().ShouldBe("succeeded", done.GetRawText());
            environ = await watch;
        }

        environ.ShouldNotBeNull("pg_basebackup was never seen running during five backups");
        var variables = environ.Split('\0', StringSplitOptions.RemoveEmptyEntries);
        variables.ShouldContain(v => v.StartsWith("PGPASSFILE=", StringComparison.Ordinal), "the tool gets the credential it needs, as a private file");
        variables.ShouldNotContain(v => v.StartsWith("PGPASSWORD=", StringComparison.Ordinal), "a password in the environment stays readable in /proc/<pid>/environ");
        variables.ShouldNotContain(v => v.StartsWith("STEWARD_", StringComparison.Ordinal));
        environ.ShouldNotContain(server.Password);
        foreach (var secret in BackupBrokers.S3Settings(brokers.S3).Values)
        {
            environ.ShouldNotContain("=" + secret);
        }
    }

    /// <summary>Polls /proc for a child of <paramref name="parent"/> named <paramref name="comm"/> and returns its
    /// environment; null when none was seen before <paramref name="stop"/>.</summary>
    private static string? CatchChildEnvironment(int parent, string comm, CancellationToken stop)
    {
        var parentField = parent.ToString(CultureInfo.InvariantCulture);
        while (!stop.IsCancellationRequested)
        {
            foreach (var dir in Directory.EnumerateDirectories("/proc"))
            {
                try
                {
                    var stat = File.ReadAllText(dir + "/stat");
                    var close = stat.LastIndexOf(')');
                    var name = stat[(stat.IndexOf('(', StringComparison.Ordinal) + 1)..close];
                    var ppid = stat[(close + 2)..].Split(' ')[1];
                    if (name == comm && ppid == parentField && File.ReadAllBytes(dir + "/environ") is { Length: > 0 } environ)
                    {
                        return Encoding.UTF8.GetString(environ);
                    }
                }
                catch (IOException)
                {
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return null;
    }
}
