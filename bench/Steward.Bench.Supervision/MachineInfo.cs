using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Steward.Bench.Supervision;

/// <summary>What the figures were measured on.</summary>
internal sealed record MachineInfo(int Cores, string Cpu, string Memory, string Kernel, string Dotnet, string PostgreSql, string Redis)
{
    public static async Task<MachineInfo> ReadAsync(CancellationToken ct)
    {
        var meminfo = await File.ReadAllLinesAsync("/proc/meminfo", ct);
        var kb = long.Parse(meminfo.First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        var cpu = (await File.ReadAllLinesAsync("/proc/cpuinfo", ct)).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        return new MachineInfo(
            Environment.ProcessorCount,
            cpu,
            string.Create(CultureInfo.InvariantCulture, $"{kb / 1024 / 1024.0:F1} GiB"),
            $"{RuntimeInformation.OSDescription.Trim()} (kernel {(await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", ct)).Trim()})",
            $"SDK {await OutputAsync("dotnet", "--version", ct)}, runtime {RuntimeInformation.FrameworkDescription}",
            await OutputAsync("postgres", "--version", ct),
            await OutputAsync("redis-server", "--version", ct));
    }

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
