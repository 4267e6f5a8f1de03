using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Rehearsals;

/// <summary>Restore rehearsals: how many run at once, how long they may take, how long kept sandboxes stay.</summary>
[SettingsSection("Rehearsal")]
internal sealed record RehearsalOptions
{
    [Setting("STEWARD_REHEARSAL_CONCURRENCY", "restore rehearsals that run at the same time on this machine; more wait their turn")]
    [Range(1, 16)]
    public int Concurrency { get; init; } = 1;

    [Setting("STEWARD_REHEARSAL_TIMEOUT_MINUTES", "a rehearsal that has not finished after this long fails (its sandbox is removed)")]
    [Range(1, 24 * 60)]
    public int TimeoutMinutes { get; init; } = 120;

    [Setting("STEWARD_REHEARSAL_KEEP_HOURS", "how long the sandbox of a rehearsal asked to keep it (--keep) stays before it is removed")]
    [Range(1, 24 * 31)]
    public int KeepHours { get; init; } = 24;

    [Setting("STEWARD_REHEARSAL_SWEEP_SECONDS", "how often kept sandboxes are checked against STEWARD_REHEARSAL_KEEP_HOURS")]
    [Range(1, 86_400)]
    public int SweepSeconds { get; init; } = 600;
}
