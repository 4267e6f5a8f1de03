using System.Runtime.InteropServices;

namespace Steward.Bench.Backup;

/// <summary>What the figures were measured on.</summary>
internal sealed record MachineInfo(int Cores, string Cpu, string Memory, string Os, string Dotnet, string Tools, string LoadAverage)
{
    public static async Task<MachineInfo> ReadAsync(CancellationToken ct)
    {
        var meminfo = await File.ReadAllLinesAsync("/proc/meminfo", ct);
        var kb = long.Parse(meminfo.First(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)).Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture);
        var cpu = (await File.ReadAllLinesAsync("/proc/cpuinfo", ct)).FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "unknown";
        var tools = string.Join("; ", await Task.WhenAll(
            Version($"{Target.PgBin}/postgres --version", ct),
            Version("zstd --version", ct),
            Version("echo age $(age --version)", ct),
            Version("pgbackrest version", ct)));
        return new MachineInfo(
            Environment.ProcessorCount,
            cpu,
            $"{kb / 1024 / 1024.0:F1} GiB",
            $"{RuntimeInformation.OSDescription} {(await File.ReadAllTextAsync("/proc/sys/kernel/osrelease", ct)).Trim()}",
            $"SDK {await Version("dotnet --version", ct)}, runtime {RuntimeInformation.FrameworkDescription}",
            tools,
            await LoadAsync(ct));
    }

    public static async Task<string> LoadAsync(CancellationToken ct) =>
        string.Join(' ', (await File.ReadAllTextAsync("/proc/loadavg", ct)).Split(' ').Take(3));

    private static async Task<string> Version(string command, CancellationToken ct)
    {
        try
        {
            return (await Shell.RunAsync(command, null, ct)).Split('\n')[0].Replace("*** ", string.Empty, StringComparison.Ordinal).Replace(" ***", string.Empty, StringComparison.Ordinal);
        }
        catch (InvalidOperationException)
        {
            return command.Split(' ')[0] + " not found";
        }
    }
}
