using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Steward.Bench.Broker;

/// <summary>What the figures were measured on.</summary>
internal sealed record MachineInfo(int Cores, string Cpu, string Memory, string Kernel, string Dotnet, string PostgreSql, string Redis, string LoadAverage)
{
    public static async Task<MachineInfo> ReadAsync(CancellationToken ct)
    {
        var meminfo = await File.ReadAllLinesAsync("/proc/meminfo", ct);
        var kb = long.Parse(meminfo.First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        var cpu = (await File.ReadAllLinesAsync("/proc/cpuinfo", ct)).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        return new MachineInfo(
            Environment.ProcessorCount,
            cpu,
            $"{kb / 1024 / 1024.0:F1} GiB",
            $"{RuntimeInformation.OSDescription} {(await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", ct)).Trim()}",
            $"SDK {await OutputAsync("dotnet", "--version", ct)}, runtime {RuntimeInformation.FrameworkDescription}",
            await OutputAsync(Path.Combine(Baseline.PgBin, "postgres"), "--version", ct),
            await OutputAsync(Baseline.RedisServer, "--version", ct),
            await LoadAsync(ct));
    }

    public static async Task<string> LoadAsync(CancellationToken ct) =>
        string.Join(' ', (await File.ReadAllTextAsync("/proc/loadavg", ct)).Split(' ').Take(3));

    private static async Task<string> OutputAsync(string file, string arg, CancellationToken ct)
    {
        try
        {
            var psi = new ProcessStartInfo(file, arg) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync(ct);
            await p.WaitForExitAsync(ct);
            return output.Trim();
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return "not found";
        }
    }
}
