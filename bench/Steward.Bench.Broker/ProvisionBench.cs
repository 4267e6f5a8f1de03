using System.Diagnostics;
using System.Net;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Broker;

/// <summary>Provision → last_operation succeeded → bind → connect + one query → deprovision, one instance at a time.</summary>
internal sealed class ProvisionBench(OsbClient osb)
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(15);

    public sealed record Result(Stats Provisioned, Stats Usable, Stats Deprovisioned, IReadOnlyList<string> Failures);

    /// <summary>Runs the series; <paramref name="beforeEach"/> (unmeasured) runs before every instance, e.g. to wait for the warm pool.</summary>
    public async Task<Result> RunAsync(Service service, int instances, CancellationToken ct, Func<Task>? beforeEach = null)
    {
        // One unmeasured instance first, so JIT and cold caches in the broker are not in the figures.
        if (beforeEach is not null)
        {
            await beforeEach();
        }

        await OneAsync(service, $"bench-{service.Name}-warmup", ct);

        var provisioned = new List<double>();
        var usable = new List<double>();
        var deprovisioned = new List<double>();
        var failures = new List<string>();
        for (var i = 0; i < instances; i++)
        {
            if (beforeEach is not null)
            {
                await beforeEach();
            }

            var r = await OneAsync(service, $"bench-{service.Name}-{i:00}", ct);
            if (r.Failure is not null)
            {
                failures.Add(r.Failure);
                Console.WriteLine($"  {service.Name} #{i}: FAILED {r.Failure}");
                continue;
            }

            provisioned.Add(r.Provisioned);
            usable.Add(r.Usable);
            deprovisioned.Add(r.Deprovisioned);
            Console.WriteLine($"  {service.Name} #{i:00}: provisioned {r.Provisioned,7:F1} ms, usable {r.Usable,7:F1} ms, deprovisioned {r.Deprovisioned,7:F1} ms");
        }

        return new Result(Stats.Of(provisioned, failures.Count), Stats.Of(usable, failures.Count), Stats.Of(deprovisioned, failures.Count), failures);
    }

    private async Task<(double Provisioned, double Usable, double Deprovisioned, string? Failure)> OneAsync(Service service, string id, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        var put = await osb.ProvisionAsync(id, service.ServiceId, service.PlanId);
        if (put.Status != HttpStatusCode.Accepted)
        {
            return (0, 0, 0, $"provision answered {put}");
        }

        var done = await WaitAsync(id, put.Str("operation"), ct);
        var provisioned = clock.Elapsed.TotalMilliseconds;
        if (done.Str("state") != "succeeded")
        {
            return (0, 0, 0, $"provision ended {done}");
        }

        var bindingId = id + "-app";
        var bind = await osb.BindAsync(id, bindingId, service.ServiceId, service.PlanId);
        if (bind.Status != HttpStatusCode.Created)
        {
            return (0, 0, 0, $"bind answered {bind}");
        }

        await service.UseAsync(bind.Body.GetProperty("credentials"), ct);
        var usable = clock.Elapsed.TotalMilliseconds;

        // A platform unbinds before it deprovisions; the unbind is not part of either figure.
        var unbind = await osb.UnbindAsync(id, bindingId, service.ServiceId, service.PlanId);
        if (unbind.Status != HttpStatusCode.OK)
        {
            return (0, 0, 0, $"unbind answered {unbind}");
        }

        clock.Restart();
        var delete = await osb.DeprovisionAsync(id, service.ServiceId, service.PlanId);
        if (delete.Status != HttpStatusCode.Accepted)
        {
            return (0, 0, 0, $"deprovision answered {delete}");
        }

        var gone = await WaitAsync(id, delete.Str("operation"), ct);
        var deprovisioned = clock.Elapsed.TotalMilliseconds;
        return gone.Status == HttpStatusCode.Gone || gone.Str("state") == "succeeded"
            ? (provisioned, usable, deprovisioned, null)
            : (0, 0, 0, $"deprovision ended {gone}");
    }

    private async Task<Reply> WaitAsync(string id, string? operation, CancellationToken ct)
    {
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var reply = await osb.LastOperationAsync(id, operation);
            if (reply.Status != HttpStatusCode.OK || reply.Str("state") != "in progress" || deadline.Elapsed > TimeSpan.FromMinutes(2))
            {
                return reply;
            }

            await Task.Delay(PollInterval, ct);
        }
    }
}
