using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Bench.Backup;

/// <summary>Steward's own backup and restore, through its API, with the broker process sampled every 50 ms.</summary>
internal sealed class StewardRuns(StewardServer server, Target target)
{
    private int Pid => server.Pid ?? throw new InvalidOperationException("the broker is not running");

    internal sealed record BackupResult(
        string Id, double WallSeconds, double ApiSeconds, long PlaintextBytes, long StoredBytes,
        double BrokerCpu, double ChildrenCpu, double SampledBaseBackupCpu,
        long IdleRss, long PeakRss, IReadOnlyList<(double Fraction, long Rss)> RssByProgress)
    {
        public double CpuSeconds => BrokerCpu + ChildrenCpu;

        public long RssGrowth => PeakRss - IdleRss;
    }

    internal sealed record RestoreResult(double WallSeconds, double ApiSeconds, double BrokerCpu, double TarCpu, long IdleRss, long PeakRss)
    {
        /// <summary>The broker's CPU by thread name over the restore.</summary>
        public string BrokerThreads { get; init; } = "";

        public double CpuSeconds => BrokerCpu + TarCpu;

        /// <summary>The highest RSS growth seen during each step of the operation (its description as last_operation showed it), in order.</summary>
        public IReadOnlyList<(string Step, long Growth)> GrowthBySteps { get; init; } = [];

        /// <summary>The step during which the peak was seen.</summary>
        public string PeakStep => GrowthBySteps.Count == 0 ? "" : GrowthBySteps.MaxBy(s => s.Growth).Step;
    }

    public async Task<BackupResult> BackupAsync(CancellationToken ct)
    {
        var idle = await IdleRssAsync(ct);
        var progress = new List<(long Bytes, long Rss)>();
        var clock = Stopwatch.StartNew();
        var sampler = new Sampler(Pid, "pg_basebackup");
        JsonElement done;
        await using (sampler)
        {
            var started = await server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{target.Id}/backups", new { kind = "physical" }, version: null);
            started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
            var id = started.Str("id")!;
            while (true)
            {
                var reply = (await server.Client.ApiAsync($"/backups/{id}")).Body;
                if (reply.Text("state") != "in progress")
                {
                    done = reply;
                    break;
                }

                if (reply.TryGetProperty("progress", out var p) && p.ValueKind == JsonValueKind.Object && sampler.CurrentRss is { } rss)
                {
                    progress.Add(((long)(p.Number("plaintext_bytes") ?? 0), rss));
                }

                await Task.Delay(50, ct);
            }
        }

        var wall = clock.Elapsed.TotalSeconds;
        done.Text("state").ShouldBe("succeeded", done.GetRawText());
        var plaintext = (long)done.Number("plaintext_bytes")!;

        // Each quarter of the data: the highest RSS seen while it streamed. Flat = memory does not follow size.
        var quarters = Enumerable.Range(1, 4).Select(q => ((double)q / 4, progress.Where(s => s.Bytes <= plaintext * q / 4 && s.Bytes > plaintext * (q - 1) / 4).Select(s => s.Rss).DefaultIfEmpty(0).Max())).ToList();
        return new BackupResult(
            done.Text("id")!, wall, done.Number("duration_seconds") ?? double.NaN, plaintext, (long)done.Number("stored_bytes")!,
            sampler.End.OwnSeconds - sampler.Start.OwnSeconds,
            sampler.End.ReapedChildrenSeconds - sampler.Start.ReapedChildrenSeconds,
            sampler.HelperCpu.GetValueOrDefault("pg_basebackup"),
            idle, sampler.PeakRss, quarters);
    }

    public async Task<RestoreResult> RestoreAsync(string backupId, CancellationToken ct)
    {
        var idle = await IdleRssAsync(ct);
        var clock = Stopwatch.StartNew();
        var sampler = new Sampler(Pid, "tar", "setpriv");
        var steps = new List<(double At, string Step)>();
        string operation;
        await using (sampler)
        {
            var started = await server.Client.SendAsync(HttpMethod.Post, $"/api/v1/instances/{target.Id}/restore", new { backup_id = backupId }, version: null);
            started.Status.ShouldBe(HttpStatusCode.Accepted, started.ToString());
            operation = started.Str("operation")!;
            using var stop = new CancellationTokenSource();
            var polling = PollStepsAsync(sampler, operation, steps, stop.Token);
            var last = await server.Client.WaitAsync(target.Id, operation, timeoutSeconds: 3600);
            last.Str("state").ShouldBe("succeeded", last.ToString());
            await stop.CancelAsync();
            await polling;
        }

        var wall = clock.Elapsed.TotalSeconds;
        var op = (await server.Client.ApiAsync($"/operations/{operation}")).Body;
        var api = (op.GetProperty("updated_at").GetDateTimeOffset() - op.GetProperty("created_at").GetDateTimeOffset()).TotalSeconds;

        // The broker's reaped-children counter is no use here: restarting the server reaps its shim, which
        // carries the whole CPU life of the old postgres. tar is counted from the samples instead.
        return new RestoreResult(wall, api, sampler.End.OwnSeconds - sampler.Start.OwnSeconds, sampler.HelperCpu.Values.Sum(), idle, sampler.PeakRss)
        {
            GrowthBySteps = GrowthBySteps(sampler.RssSamples, steps, idle),
            BrokerThreads = sampler.Threads.Describe(),
        };
    }

    /// <summary>Each sample is charged to the step last_operation showed at or before it (the first step before any was seen).</summary>
    private static List<(string Step, long Growth)> GrowthBySteps(IReadOnlyList<(double At, long Rss)> samples, List<(double At, string Step)> steps, long idle)
    {
        var result = new List<(string Step, long Growth)>();
        foreach (var (at, rss) in samples)
        {
            var step = steps.LastOrDefault(s => s.At <= at).Step ?? steps.FirstOrDefault().Step ?? "starting";
            var i = result.FindIndex(r => r.Step == step);
            if (i < 0)
            {
                result.Add((step, rss - idle));
            }
            else if (rss - idle > result[i].Growth)
            {
                result[i] = (step, rss - idle);
            }
        }

        return result;
    }

    /// <summary>Polls the operation's description (its current step) every 200 ms, on the sampler's clock.</summary>
    private async Task PollStepsAsync(Sampler sampler, string operation, List<(double At, string Step)> steps, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if ((await server.Client.LastOperationAsync(target.Id, operation)).Str("description") is { } d)
                {
                    // Progress reports ("replaying WAL at 0/3A000000") name the step before the figures.
                    var step = d.Split([" at ", ": "], 2, StringSplitOptions.None)[0];
                    lock (steps)
                    {
                        steps.Add((sampler.Elapsed, step.Length > 70 ? step[..70] : step));
                    }
                }

                await Task.Delay(200, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (HttpRequestException)
            {
                // the broker is busy; the next poll will do
            }
        }
    }

    public async Task DeleteAsync(string backupId)
    {
        var reply = await server.Client.SendAsync(HttpMethod.Delete, $"/api/v1/backups/{backupId}", version: null);
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.ToString());
    }

    /// <summary>The broker's resident set at rest: the median of 20 samples over one second.</summary>
    private async Task<long> IdleRssAsync(CancellationToken ct)
    {
        var samples = new List<long>();
        for (var i = 0; i < 20; i++)
        {
            samples.Add(ProcStat.Rss(Pid) ?? 0);
            await Task.Delay(50, ct);
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }
}
