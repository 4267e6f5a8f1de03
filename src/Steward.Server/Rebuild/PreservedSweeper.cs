using Microsoft.Extensions.Options;
using Steward.Runtime;
using Steward.State;

namespace Steward.Server.Rebuild;

/// <summary>
/// The retention rule of preserved files: a copy older than <see cref="PreservedOptions.KeepHours"/> is removed,
/// never silently: the removal is logged and written into the incident that names the copy.
/// </summary>
internal sealed partial class PreservedSweeper(IInstanceRuntime runtime, IStateStore store, IOptions<PreservedOptions> options, TimeProvider time, ILogger<PreservedSweeper> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var keep = options.Value;
        if (keep.KeepHours == 0)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(keep.SweepSeconds), time);
        do
        {
            try
            {
                await SweepAsync(TimeSpan.FromHours(keep.KeepHours), stoppingToken);
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                LogSweepFailed(logger, ex);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Removes the copies preserved longer than <paramref name="keep"/> ago; returns how many.</summary>
    public async Task<int> SweepAsync(TimeSpan keep, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var expired = runtime.ListPreserved().Where(p => now - p.PreservedAt > keep).ToList();
        if (expired.Count == 0)
        {
            return 0;
        }

        var incidents = await store.ListIncidentsAsync(null, cancellationToken);
        foreach (var (path, at) in expired)
        {
            await runtime.DeletePreservedAsync(path, cancellationToken);
            var detail = $"the files preserved in {path} at {at:u} were removed after {keep.TotalHours:0} h (STEWARD_PRESERVED_KEEP_HOURS)";
            LogRemoved(logger, path, at, keep.TotalHours);
            foreach (var incident in incidents.Where(i => i.PreservedPath == path))
            {
                await store.SaveIncidentAsync(incident.With(now, "preserved-removed", detail), cancellationToken);
            }
        }

        return expired.Count;
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Information, Message = "Removed the preserved files {Path} (preserved {PreservedAt}) after {Hours} h")]
    private static partial void LogRemoved(ILogger logger, string path, DateTimeOffset preservedAt, double hours);

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Sweeping preserved files failed; retrying at the next sweep")]
    private static partial void LogSweepFailed(ILogger logger, Exception exception);
}
