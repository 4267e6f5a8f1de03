using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Rebuild;

/// <summary>How long the files a rebuild moved aside (<c>&lt;data&gt;/preserved/</c>) are kept for inspection.</summary>
[SettingsSection("Preserved")]
internal sealed record PreservedOptions
{
    [Setting("STEWARD_PRESERVED_KEEP_HOURS", "how long the files a rebuild moved aside are kept for inspection before they are removed (each removal is logged and noted in the incident); 0 keeps them until removed by hand")]
    [Range(0, 24 * 366)]
    public int KeepHours { get; init; } = 7 * 24;

    [Setting("STEWARD_PRESERVED_SWEEP_SECONDS", "how often preserved files are checked against STEWARD_PRESERVED_KEEP_HOURS")]
    [Range(1, 86_400)]
    public int SweepSeconds { get; init; } = 3600;
}
