using System.Globalization;
using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Supervision;

/// <summary>
/// One trial: provision an instance, wait until the supervisor has found it healthy, wait a random part of a
/// check interval (so the failure lands at a random point of the check schedule), inject the failure, then
/// poll the instance's incidents until the supervisor reaches its outcome; delete the instance afterwards.
/// </summary>
internal sealed class TrialRunner(OsbClient osb, Policy policy)
{
    private static readonly TimeSpan DetectPoll = TimeSpan.FromMilliseconds(50);
    private static readonly TimeSpan OutcomePoll = TimeSpan.FromMilliseconds(200);
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(180);
    private int _incidents;

    public async Task<Trial> RunAsync(Scenario scenario, int index, CancellationToken ct)
    {
        var id = $"{scenario.Key}-{policy.Name}-{index}-{Guid.NewGuid().ToString("N")[..6]}";
        var trial = new Trial { Scenario = scenario, Policy = policy, Index = index };
        Injection? injection = null;
        try
        {
            await osb.ProvisionReadyAsync(id, scenario.Service.ServiceId, scenario.Service.PlanId);
            await WaitHealthyAsync(id, ct);
            var instance = (await osb.ApiAsync($"/instances/{id}")).Body;
            var directory = instance.GetProperty("directory").GetString()!;
            var pid = instance.GetProperty("process").GetProperty("pid").GetInt32();

            await Task.Delay(policy.Interval * Random.Shared.NextDouble(), ct);
            injection = await Injector.InjectAsync(scenario.Fault, directory, pid, ct);
            trial = trial with { InjectedAt = injection.At };
            return await ObserveAsync(id, trial, ct);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !ct.IsCancellationRequested)
        {
            return trial with { Error = ex.Message.Split('\n')[0] };
        }
        finally
        {
            if (injection?.Killer is { } killer)
            {
                await killer.DisposeAsync();
            }

            await DeleteAsync(id, scenario.Service);
        }
    }

    private async Task<Trial> ObserveAsync(string id, Trial trial, CancellationToken ct)
    {
        var deadline = trial.InjectedAt + Deadline;
        JsonElement incident = default;
        while (incident.ValueKind != JsonValueKind.Object)
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                return trial with { Error = $"no incident within {Deadline.TotalSeconds:0} s" };
            }

            await Task.Delay(DetectPoll, ct);
            incident = await FirstIncidentAsync(id);
        }

        trial = trial with
        {
            SeenAt = TimeProvider.System.GetUtcNow(),
            OpenedAt = Time(incident.GetProperty("opened_at")),
            FirstClass = incident.GetProperty("class").GetString(),
        };

        while (incident.GetProperty("state").GetString() is not ("resolved" or "quarantined"))
        {
            if (TimeProvider.System.GetUtcNow() > deadline)
            {
                return Final(trial, incident) with { Error = $"still {incident.GetProperty("state").GetString()} {Deadline.TotalSeconds:0} s after the injection" };
            }

            await Task.Delay(OutcomePoll, ct);
            incident = await FirstIncidentAsync(id);
        }

        return Final(trial, incident);
    }

    private Trial Final(Trial trial, JsonElement incident)
    {
        var timeline = incident.GetProperty("timeline").EnumerateArray().ToList();
        var evidence = incident.GetProperty("evidence");
        return trial with
        {
            FinalClass = incident.GetProperty("class").GetString(),
            FinalState = incident.GetProperty("state").GetString(),
            Restarts = incident.GetProperty("restarts").GetInt32(),
            Summary = incident.GetProperty("summary").GetString(),
            OutcomeAt = timeline.Where(e => e.GetProperty("kind").GetString() is "resolved" or "quarantined").Select(e => (DateTimeOffset?)Time(e.GetProperty("at"))).LastOrDefault(),
            RestartedAt = timeline.Where(e => e.GetProperty("kind").GetString() == "restarted").Select(e => (DateTimeOffset?)Time(e.GetProperty("at"))).FirstOrDefault(),
            // A continued process is back when its incident resolves: nothing was restarted, so no "healthy" event.
            HealthyAgainAt = timeline.Where(e => e.GetProperty("kind").GetString() == "healthy").Select(e => (DateTimeOffset?)Time(e.GetProperty("at"))).FirstOrDefault()
                ?? timeline.Where(e => e.GetProperty("kind").GetString() == "resolved" && incident.GetProperty("restarts").GetInt32() == 0).Select(e => (DateTimeOffset?)Time(e.GetProperty("at"))).FirstOrDefault(),
            CorrectlyClassifiedAt = timeline
                .Where(e => e.GetProperty("kind").GetString() == "classified" && e.GetProperty("detail").GetString()!.StartsWith(trial.Scenario.ExpectedClass + ":", StringComparison.Ordinal))
                .Select(e => (DateTimeOffset?)Time(e.GetProperty("at"))).FirstOrDefault(),
            Incidents = _incidents,
            FailedChecks = evidence.ValueKind == JsonValueKind.Object && evidence.TryGetProperty("consecutive_failed_checks", out var n) && n.ValueKind == JsonValueKind.Number ? n.GetInt32() : null,
        };
    }

    private async Task<JsonElement> FirstIncidentAsync(string id)
    {
        var reply = await osb.ApiAsync($"/incidents?instance={id}");
        if (reply.Status != HttpStatusCode.OK)
        {
            return default;
        }

        // Newest first; a trial's instance has one incident unless the supervisor split a failure in two.
        var incidents = reply.Body.GetProperty("incidents").EnumerateArray().ToList();
        _incidents = incidents.Count;
        return incidents.LastOrDefault();
    }

    private async Task WaitHealthyAsync(string id, CancellationToken ct)
    {
        for (var i = 0; i < 300; i++)
        {
            var body = (await osb.ApiAsync($"/instances/{id}")).Body;
            if (body.GetProperty("health").GetProperty("status").GetString() == "healthy"
                && body.GetProperty("process").TryGetProperty("pid", out var pid) && pid.ValueKind == JsonValueKind.Number)
            {
                return;
            }

            await Task.Delay(100, ct);
        }

        throw new TimeoutException($"instance {id} was not found healthy within 30 s");
    }

    private async Task DeleteAsync(string id, Service service)
    {
        try
        {
            var reply = await osb.DeprovisionAsync(id, service.ServiceId, service.PlanId);
            if (reply.Status == HttpStatusCode.Accepted)
            {
                await osb.WaitAsync(id);
            }
        }
        catch (Exception ex) when (ex is HttpRequestException or TimeoutException or TaskCanceledException)
        {
            Console.Error.WriteLine($"  could not delete {id}: {ex.Message}");
        }
    }

    private static DateTimeOffset Time(JsonElement e) =>
        DateTimeOffset.Parse(e.GetString()!, CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
}
