using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;

namespace Steward.Bench;

/// <summary>What a benchmark's figures were measured on; shared by every project in bench/.</summary>
internal sealed record MachineInfo(int Cores, string Cpu, string Memory, string Os, string Dotnet, string Tools, string LoadAverage)
{
    /// <summary>Reads the machine and the first output line of each version command (run by /bin/sh).</summary>
    public static async Task<MachineInfo> ReadAsync(IEnumerable<string> versionCommands, CancellationToken ct)
    {
        var meminfo = await File.ReadAllLinesAsync("/proc/meminfo", ct);
        var kb = long.Parse(meminfo.First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
        var cpu = (await File.ReadAllLinesAsync("/proc/cpuinfo", ct)).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var tools = await Task.WhenAll(versionCommands.Select(c => VersionAsync(c, ct)));
        return new MachineInfo(
            Environment.ProcessorCount,
            cpu,
            string.Create(CultureInfo.InvariantCulture, $"{kb / 1024 / 1024.0:F1} GiB"),
            $"{RuntimeInformation.OSDescription.Trim()} (kernel {(await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", ct)).Trim()})",
            $"SDK {await VersionAsync("dotnet --version", ct)}, runtime {RuntimeInformation.FrameworkDescription}",
            string.Join("; ", tools),
            await LoadAsync(ct));
    }

    /// <summary>The 1, 5 and 15 minute load averages.</summary>
    public static async Task<string> LoadAsync(CancellationToken ct) =>
        string.Join(' ', (await File.ReadAllTextAsync("/proc/loadavg", ct)).Split(' ').Take(3));

    private static async Task<string> VersionAsync(string command, CancellationToken ct)
    {
        var psi = new ProcessStartInfo("/bin/sh") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add("-c");
        psi.ArgumentList.Add(command);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync(ct);
        await p.WaitForExitAsync(ct);
        var first = output.Split('\n')[0].Replace("*** ", string.Empty, StringComparison.Ordinal).Replace(" ***", string.Empty, StringComparison.Ordinal).Trim();
        return p.ExitCode == 0 && first.Length > 0 ? first : command.Split(' ')[0] + " not found";
    }
}
