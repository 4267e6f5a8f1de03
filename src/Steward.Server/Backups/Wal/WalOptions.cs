using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;

namespace Steward.Server.Backups.Wal;

/// <summary>Continuous WAL archiving of PostgreSQL instances (docs/point-in-time-restore.md).</summary>
[SettingsSection("Wal")]
internal sealed record WalOptions : IValidatableObject
{
    [Setting("STEWARD_WAL_ARCHIVING", "continuous WAL archiving of every PostgreSQL instance (applied at its next configure); always off with STEWARD_RUNTIME=kubernetes (docs/kubernetes.md)")]
    [AllowedValues("on", "off")]
    public string Archiving { get; init; } = "on";

    [Setting("STEWARD_WAL_ARCHIVE_TIMEOUT", "PostgreSQL's archive_timeout in seconds: the longest an idle instance's last write waits to be archived")]
    [Range(1, 60)]
    public int ArchiveTimeout { get; init; } = 30;

    [Setting("STEWARD_WAL_LAG_ALERT", "seconds a completed WAL segment may wait to be archived before an incident is raised")]
    [Range(1, int.MaxValue)]
    public int LagAlert { get; init; } = 300;

    [Setting("STEWARD_WAL_MONITOR_INTERVAL_MS", "how often archive lag is measured")]
    [Range(100, int.MaxValue)]
    public int MonitorIntervalMs { get; init; } = 10000;

    [Setting("STEWARD_WAL_RESTORE_PREFETCH", "WAL segments a recovering server's restore_command is fetched ahead into the broker's on-disk spool (16 MiB each; 0: no read-ahead)")]
    [Range(0, 64)]
    public int RestorePrefetch { get; init; } = 8;

    [Setting("STEWARD_WAL_BROKER_URL", "how instances' archive_command reaches the broker", Default = "the loopback form of STEWARD_LISTEN", Allowed = "an http:// URL")]
    public string? BrokerUrl { get; init; }

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (BrokerUrl is not null && (!Uri.TryCreate(BrokerUrl, UriKind.Absolute, out var uri) || uri.Scheme != "http"))
        {
            yield return new ValidationResult("not an http:// URL", [nameof(BrokerUrl)]);
        }
    }
}
