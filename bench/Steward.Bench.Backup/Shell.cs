using System.Diagnostics;
using System.Globalization;

namespace Steward.Bench.Backup;

/// <summary>One timed shell command: wall clock, and CPU and peak RSS of every process it waited for (GNU time).</summary>
internal sealed record Timed(double WallSeconds, double CpuSeconds, long MaxRssBytes);

internal static class Shell
{
    /// <summary>Runs <paramref name="script"/> with <c>sh -c</c> under <c>/usr/bin/time</c>; throws on a non-zero exit.</summary>
    public static async Task<Timed> TimeAsync(string script, IReadOnlyDictionary<string, string>? environment, CancellationToken ct)
    {
        var report = Path.GetTempFileName();
        try
        {
            var psi = new ProcessStartInfo("/usr/bin/time") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (var a in new[] { "-f", "%e %U %S %M", "-o", report, "bash", "-c", "set -eo pipefail; " + script })
            {
                psi.ArgumentList.Add(a);
            }

            foreach (var (k, v) in environment ?? new Dictionary<string, string>())
            {
                psi.Environment[k] = v;
            }

            var clock = Stopwatch.StartNew();
            using var p = Process.Start(psi)!;
            var stdout = p.StandardOutput.ReadToEndAsync(ct);
            var stderr = p.StandardError.ReadToEndAsync(ct);
            await p.WaitForExitAsync(ct);
            var wall = clock.Elapsed.TotalSeconds;
            var err = await stderr;
            await stdout;
            var lines = await File.ReadAllLinesAsync(report, ct);
            if (p.ExitCode != 0)
            {
                throw new InvalidOperationException($"`{script}` exited with {p.ExitCode}: {Tail(err)} {string.Join(' ', lines)}");
            }

            var f = lines.Last(l => l.Length > 0).Split(' ');
            double D(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
            return new Timed(wall, D(1) + D(2), long.Parse(f[3], CultureInfo.InvariantCulture) * 1024);
        }
        finally
        {
            File.Delete(report);
        }
    }

    /// <summary>Runs a command and returns its standard output; throws on a non-zero exit.</summary>
    public static async Task<string> RunAsync(string script, IReadOnlyDictionary<string, string>? environment, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("sh") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(script);
        foreach (var (k, v) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[k] = v;
        }

        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync(ct);
        var stderr = p.StandardError.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var output = await stdout;
        var err = await stderr;
        return p.ExitCode == 0 ? output.Trim() : throw new InvalidOperationException($"`{script}` exited with {p.ExitCode}: {Tail(err)}");
    }

    public static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(15));
}
