using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Rehearsals;

/// <summary>
/// Resource limits of a rehearsal's sandbox server, applied through a cgroup of its own where the broker can create
/// one (docs/rehearsal.md): CPU and IO weights relative to everything else (100 is a normal process's share), and a
/// memory ceiling.
/// </summary>
[SettingsSection("RehearsalLimits")]
internal sealed record SandboxLimitsOptions
{
    [Setting("STEWARD_REHEARSAL_CGROUPS", "put each rehearsal's sandbox server in a cgroup of its own with the limits below, where the broker can write a cgroup hierarchy (root); off: nice/ionice only")]
    public bool Enabled { get; init; } = true;

    [Setting("STEWARD_REHEARSAL_CPU_WEIGHT", "the sandbox's CPU weight, 100 being a normal process's (cgroup v2 cpu.weight; v1 cpu.shares = weight × 1024 / 100)")]
    [Range(1, 10_000)]
    public int CpuWeight { get; init; } = 20;

    [Setting("STEWARD_REHEARSAL_IO_WEIGHT", "the sandbox's IO weight, 100 being a normal process's (cgroup v2 io.weight; v1 blkio.weight = weight × 5, 10 to 1000); honoured by IO schedulers with weights (BFQ)")]
    [Range(1, 10_000)]
    public int IoWeight { get; init; } = 20;

    [Setting("STEWARD_REHEARSAL_MEMORY_MB", "the most memory the sandbox's server and its processes may use, page cache included (cgroup v2 memory.max, v1 memory.limit_in_bytes); 0: no limit")]
    [Range(0, 16 * 1024 * 1024)]
    public int MemoryMb { get; init; } = 2048;
}
