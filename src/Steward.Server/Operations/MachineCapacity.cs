using Steward.Catalog;
using Steward.Errors;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.State;

namespace Steward.Server.Operations;

/// <summary>
/// Refuses a request for new servers before anything is recorded when the machine has no room for them: no port
/// left in the range, memory or disk below their floors, or the broker's file descriptors near their limit. A
/// request refused here fails in milliseconds with what ran out, instead of as a provision that fails half-way
/// (or a server the OOM killer ends later) and has to be cleaned up.
/// </summary>
internal sealed class MachineCapacity(IStateStore store, IInstanceRuntime runtime, StewardOptions steward, Microsoft.Extensions.Options.IOptions<AdmissionOptions> admission)
{
    private const long Mb = 1024 * 1024;
    private readonly AdmissionOptions options = admission.Value;

    /// <summary>Throws a 503 naming the limit when <paramref name="servers"/> more servers (and <paramref name="ports"/> ports) do not fit.</summary>
    public async Task RequireRoomAsync(int servers, int ports, CancellationToken cancellationToken)
    {
        var (min, max) = steward.InstancePorts;
        var free = max - min + 1 - (await store.AllocatedPortsAsync(cancellationToken)).Count(p => p >= min && p <= max);
        if (free < ports)
        {
            Refuse($"{free} of the ports {min}-{max} are free and this needs {ports}", "STEWARD_PORT_RANGE");
        }

        if (options.MinFreeMemoryMb > 0 && runtime.AvailableMemoryBytes() is { } memory && memory < options.MinFreeMemoryMb * Mb)
        {
            Refuse($"{memory / Mb} MiB of memory are available, below the {options.MinFreeMemoryMb} MiB floor", "STEWARD_ADMISSION_MIN_FREE_MEMORY_MB");
        }

        if (options.MinFreeDiskMb > 0 && runtime.FreeBytes(runtime.PathsFor("admission")) is { } disk && disk < options.MinFreeDiskMb * Mb)
        {
            Refuse($"{disk / Mb} MiB are free on the file system of {steward.DataDir}, below the {options.MinFreeDiskMb} MiB floor", "STEWARD_ADMISSION_MIN_FREE_DISK_MB");
        }

        if (options.FilesPerServer > 0 && OpenFiles() is { } open && OpenFileLimit() is { } limit && open + (servers * options.FilesPerServer) > limit)
        {
            Refuse($"the broker has {open} files open of its limit of {limit} (ulimit -n) and keeps {options.FilesPerServer} per server for {servers} more", "STEWARD_ADMISSION_FILES_PER_SERVER");
        }
    }

    /// <summary>Servers and ports a new instance of <paramref name="plan"/> takes: one each, plus the stable endpoint's port on an HA plan.</summary>
    public static (int Servers, int Ports) Needs(ServicePlan plan) => (plan.Members, plan.HighlyAvailable ? plan.Members + 1 : plan.Members);

    private static void Refuse(string what, string setting) =>
        throw new StewardException(ErrorCode.ServiceUnavailable, $"this machine has no room for another instance: {what} ({setting}). Nothing was created; free resources or change the setting, then retry.");

    private static int? OpenFiles()
    {
        try
        {
            return Directory.GetFileSystemEntries("/proc/self/fd").Length;
        }
        catch (IOException)
        {
            return null;
        }
    }

    // "Max open files            1048576              1048576              files": the soft limit is the one enforced.
    private static long? OpenFileLimit()
    {
        try
        {
            var line = File.ReadLines("/proc/self/limits").FirstOrDefault(l => l.StartsWith("Max open files", StringComparison.Ordinal));
            var fields = line?["Max open files".Length..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
            return fields is [var soft, ..] && long.TryParse(soft, System.Globalization.CultureInfo.InvariantCulture, out var value) ? value : null;
        }
        catch (IOException)
        {
            return null;
        }
    }
}
