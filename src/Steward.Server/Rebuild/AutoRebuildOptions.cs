using System.ComponentModel.DataAnnotations;
using Steward.Server.Configuration;
using Steward.Supervision;

namespace Steward.Server.Rebuild;

/// <summary>
/// Automatic rebuild of quarantined instances (docs/rebuild.md#automatic-rebuild): off unless a plan opts in, only for
/// failure classes where starting over from a backup is safe, only with a recent backup, and within a budget.
/// </summary>
[SettingsSection("AutoRebuild")]
internal sealed record AutoRebuildOptions : IValidatableObject
{
    [Setting("STEWARD_AUTO_REBUILD_PLANS", "plans whose quarantined instances are rebuilt automatically (at their latest recoverable point), as service/plan names separated by commas; empty: never, a person decides", Default = "empty", Allowed = "e.g. `postgresql/standalone,redis/standalone`")]
    public string Plans { get; init; } = string.Empty;

    [Setting("STEWARD_AUTO_REBUILD_CLASSES", "failure classes whose quarantine is rebuilt automatically on those plans, separated by commas", Allowed = "failure class names (docs/supervision.md), e.g. `data-corruption,config-error`")]
    public string Classes { get; init; } = "data-corruption";

    [Setting("STEWARD_AUTO_REBUILD_MAX_BACKUP_AGE_HOURS", "an automatic rebuild needs a succeeded backup (for PostgreSQL with WAL archiving: a latest recoverable point) at most this old; older, a person decides")]
    [Range(1, 24 * 366)]
    public int MaxBackupAgeHours { get; init; } = 24;

    [Setting("STEWARD_AUTO_REBUILD_BUDGET", "at most this many automatic rebuilds of one instance within STEWARD_AUTO_REBUILD_WINDOW_HOURS; then it stays quarantined for a person")]
    [Range(1, 100)]
    public int Budget { get; init; } = 1;

    [Setting("STEWARD_AUTO_REBUILD_WINDOW_HOURS", "the window of STEWARD_AUTO_REBUILD_BUDGET")]
    [Range(1, 24 * 366)]
    public int WindowHours { get; init; } = 24;

    [Setting("STEWARD_AUTO_REBUILD_INTERVAL_MS", "how often quarantined instances of opted-in plans are looked at")]
    [Range(100, 3_600_000)]
    public int IntervalMs { get; init; } = 5000;

    /// <summary>The opted-in plans as <c>service/plan</c> names.</summary>
    public IReadOnlySet<string> PlanSet => Split(Plans).ToHashSet(StringComparer.Ordinal);

    /// <summary>The failure classes rebuilt automatically.</summary>
    public IReadOnlySet<FailureClass> ClassSet => Split(Classes).Select(ClassOf).OfType<FailureClass>().ToHashSet();

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        foreach (var plan in Split(Plans).Where(p => p.Split('/') is not [{ Length: > 0 }, { Length: > 0 }]))
        {
            yield return new ValidationResult($"'{plan}' is not a service/plan name like postgresql/standalone", [nameof(Plans)]);
        }

        foreach (var name in Split(Classes).Where(c => ClassOf(c) is null))
        {
            yield return new ValidationResult($"'{name}' is not a failure class ({string.Join(", ", Enum.GetValues<FailureClass>().Select(c => c.Name()))})", [nameof(Classes)]);
        }
    }

    private static FailureClass? ClassOf(string name) => Enum.GetValues<FailureClass>().Where(c => c.Name() == name).Select(c => (FailureClass?)c).FirstOrDefault();

    private static IEnumerable<string> Split(string list) => list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
