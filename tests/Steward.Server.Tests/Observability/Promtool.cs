using System.Text;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Server.Tests.Observability;

/// <summary>Prometheus's own checker: the exposition and the example rules must pass it.</summary>
internal static class Promtool
{
    public static Task<Cli.Result> RunAsync(params string[] arguments) => RunAsync(null, arguments);

    /// <summary>Fails (never skips) when promtool is missing, saying how to install it.</summary>
    public static async Task<Cli.Result> RunAsync(byte[]? stdin, params string[] arguments)
    {
        if (Environment.GetEnvironmentVariable("PATH")!.Split(':').All(d => !File.Exists(Path.Combine(d, "promtool"))))
        {
            throw new InvalidOperationException("promtool is not installed; run: sh scripts/install-deps.sh --test (Debian package prometheus)");
        }

        return await Cli.RunAsync("promtool", arguments, stdin);
    }

    public static async Task CheckMetricsAsync(string exposition)
    {
        var result = await RunAsync(Encoding.UTF8.GetBytes(exposition), "check", "metrics");
        result.ExitCode.ShouldBe(0, $"promtool check metrics: {result.Stderr}\n{exposition}");
    }
}
