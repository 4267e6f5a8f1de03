using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Operations;

/// <summary>When a request for new servers is refused at once because the machine has no room for them (docs/scale.md).</summary>
[SettingsSection("Admission")]
internal sealed record AdmissionOptions
{
    [Setting("STEWARD_ADMISSION_MIN_FREE_MEMORY_MB", "a provision (or a plan change that adds servers) is refused at once, with nothing recorded, when the machine's available memory (MemAvailable) is below this; instances are not reserved their plan's whole memory, so this floor is what keeps one more server from pushing the machine into swap or the OOM killer; 0 turns the check off")]
    [Range(0, 1_048_576)]
    public int MinFreeMemoryMb { get; init; } = 256;

    [Setting("STEWARD_ADMISSION_MIN_FREE_DISK_MB", "the same when the file system that holds the instances has less free space than this; 0 turns the check off")]
    [Range(0, 104_857_600)]
    public int MinFreeDiskMb { get; init; } = 512;

    [Setting("STEWARD_ADMISSION_FILES_PER_SERVER", "file descriptors the broker keeps in reserve per server it starts (its health-check connections, log and pid files, the HA proxy's sockets); the same when the broker's open files plus this per new server would reach its limit (ulimit -n); 0 turns the check off")]
    [Range(0, 65_536)]
    public int FilesPerServer { get; init; } = 16;
}
