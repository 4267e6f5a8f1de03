using System.Globalization;
using Steward.Supervision;

namespace Steward.Server.Rebuild;

/// <summary>
/// Whether a quarantined instance is rebuilt without a person: its plan opted in, the quarantine's class is one a
/// rebuild is safe for, the data to rebuild from is recent, and the instance's budget of automatic rebuilds is not
/// spent. A pure decision, so each rule is tested on its own.
/// </summary>
internal sealed class AutoRebuildPolicy(AutoRebuildOptions options)
{
    /// <summary>The timeline kind of an automatic rebuild started for an incident; counted for the budget.</summary>
    public const string Started = "auto-rebuild";

    /// <summary>The timeline kind of a quarantine left to a person, with the reason.</summary>
    public const string Skipped = "auto-rebuild-skipped";

    private readonly IReadOnlySet<string> _plans = options.PlanSet;
    private readonly IReadOnlySet<FailureClass> _classes = options.ClassSet;

    /// <summary>Whether the plan opted in at all (otherwise nothing is said: a person decides, as always).</summary>
    public bool OptedIn(string servicePlan) => _plans.Contains(servicePlan);

    /// <param name="quarantine">The instance's quarantine incident.</param>
    /// <param name="history">Every incident of the instance (for the budget).</param>
    /// <param name="recoveryPoint">The newest point a rebuild would restore (latest backup, or last archived commit); null when there is none.</param>
    /// <returns>Null to rebuild now; otherwise why not.</returns>
    public string? WhyNot(Incident quarantine, IEnumerable<Incident> history, DateTimeOffset? recoveryPoint, DateTimeOffset now)
    {
        if (!_classes.Contains(quarantine.Class))
        {
            return $"{quarantine.Class.Name()} is not rebuilt automatically (STEWARD_AUTO_REBUILD_CLASSES: {string.Join(", ", _classes.Select(c => c.Name()))}); rebuild or delete it";
        }

        var window = TimeSpan.FromHours(options.WindowHours);
        var used = history.SelectMany(i => i.Timeline).Count(e => e.Kind == Started && now - e.At < window);
        if (used >= options.Budget)
        {
            return string.Create(CultureInfo.InvariantCulture, $"the budget of {options.Budget} automatic rebuild(s) within {options.WindowHours} h is spent ({used} done); rebuild or delete it");
        }

        var maxAge = TimeSpan.FromHours(options.MaxBackupAgeHours);
        if (recoveryPoint is not { } point)
        {
            return "there is no backup to rebuild from; back it up, or rebuild it empty by hand";
        }

        return now - point > maxAge
            ? string.Create(CultureInfo.InvariantCulture, $"its newest recovery point ({point:u}) is older than {options.MaxBackupAgeHours} h (STEWARD_AUTO_REBUILD_MAX_BACKUP_AGE_HOURS): rebuilding would lose more than that without a person deciding; rebuild or delete it")
            : null;
    }
}
