using System.Diagnostics;
using Steward.Bench.Supervision;
using Steward.Bench;
using Steward.Server.Tests.Infrastructure;

var options = Options.Parse(args);
PublishedBroker.Use();
using var cancel = CtrlC.Cancels();
var ct = cancel.Token;
var total = Stopwatch.StartNew();
var date = TimeProvider.System.GetUtcNow();
var machine = await MachineInfo.ReadAsync(["/usr/lib/postgresql/15/bin/postgres --version", "redis-server --version"], ct);
var scenarios = Scenario.All.Where(s => options.Only.Count == 0 || options.Only.Contains(s.Key)).ToList();
var policies = new[] { Policy.Production, Policy.Tuned }.Where(p => options.Policies.Contains(p.Name)).ToList();
Console.WriteLine($"steward-bench-supervision: R = {options.Repeat} (crash loop {options.CrashLoopRepeat}), {machine.Cores} cores, {machine.Memory}");

var trials = new List<Trial>();
foreach (var policy in policies)
{
    Console.WriteLine($"policy {policy.Name}: {policy.Describe()}");
    await using var server = await StewardServer.StartAsync(policy.Environment);
    try
    {
        // One stream per scenario, all streams at once; within a stream the repeats run one after another, each
        // on a fresh instance. Instances are independent to the supervisor, and it keeps every run near ten minutes.
        var streams = scenarios.Select(s => RunStreamAsync(server.Client, policy, s, s.Fault == Fault.CrashLoop ? options.CrashLoopRepeat : options.Repeat));
        foreach (var stream in await Task.WhenAll(streams))
        {
            trials.AddRange(stream);
        }
    }
    finally
    {
        // The harness removes the broker's directory on dispose; keep its log for a look at what it did.
        await File.WriteAllTextAsync(Path.Combine(Path.GetTempPath(), $"steward-bench-supervision-{policy.Name}.log"), server.Log, CancellationToken.None);
    }
}

async Task<List<Trial>> RunStreamAsync(OsbClient osb, Policy policy, Scenario scenario, int repeat)
{
    var runner = new TrialRunner(osb, policy);
    var results = new List<Trial>();
    for (var i = 1; i <= repeat; i++)
    {
        var trial = await runner.RunAsync(scenario, i, ct);
        results.Add(trial);
        Console.WriteLine(Report.Line(trial));
    }

    return results;
}

var section = Report.Section(new Figures(options, date, total.Elapsed, machine, policies, scenarios, trials));
Console.WriteLine();
Console.WriteLine(section);
if (options.WritePath is not null)
{
    await Report.WriteAsync(options.WritePath, section, ct);
    Console.WriteLine($"wrote the supervision section of {options.WritePath}");
}

Console.WriteLine($"total {total.Elapsed.TotalMinutes:F1} min");
