using System.Globalization;
using System.Text;

namespace Steward.Bench.Supervision;

/// <summary>The supervision section of docs/benchmarks.md, between its own markers.</summary>
internal static class Report
{
    public const string Start = "<!-- supervision:start -->";
    public const string End = "<!-- supervision:end -->";

    public static string Line(Trial t) => t.Error is not null && t.OpenedAt is null
        ? $"  {t.Policy.Name,-10} {t.Scenario.Key,-11} #{t.Index}: ERROR {t.Error}"
        : string.Create(CultureInfo.InvariantCulture, $"  {t.Policy.Name,-10} {t.Scenario.Key,-11} #{t.Index}: detected {Sec(t.Detection)} s (seen {Sec(t.Visible)} s) as {t.FirstClass} -> {t.FinalClass} {t.FinalState} after {t.Restarts} restart(s) at {Sec(t.ToOutcome)} s, restart -> healthy {Sec(t.RestartToHealthy)} s{(t.Error is null ? string.Empty : " ERROR " + t.Error)}");

    public static string Section(Figures f)
    {
        var md = new StringBuilder();
        md.AppendLine(Start);
        md.AppendLine("## Supervision: failure detection, classification and outcome");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"Measured by `bench/Steward.Bench.Supervision` on {f.Date:yyyy-MM-dd HH:mm} UTC in {f.Elapsed.TotalMinutes:F1} min, on {f.Machine.Cores} cores ({f.Machine.Cpu}), {f.Machine.Memory} RAM, {f.Machine.Os}; .NET {f.Machine.Dotnet}; {f.Machine.Tools}."));
        md.AppendLine();
        md.AppendLine("```sh");
        md.AppendLine("dotnet run -c Release --project bench/Steward.Bench.Supervision -- --repeat 5 --write docs/benchmarks.md");
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"""
            It starts a real `steward-server` with the integration-test harness, once per policy, and injects each failure
            the way `tests/Steward.Server.Tests/Supervision/SupervisionTests.cs` does, on a fresh instance per trial:
            provision, wait until the supervisor reports it healthy, wait a random fraction of one check interval (so the
            failure lands at a random point of the check schedule), inject, then poll `GET /api/v1/incidents?instance=ID`
            (every 50 ms until the incident appears, then every 200 ms) until the incident is `resolved` or `quarantined`.
            **Detection** = the incident's `opened_at` (broker clock) − the injection (bench clock, taken right after the
            `kill(2)` syscall; both clocks are this machine's). **Seen** = when the poll first returned the incident: the
            incident is written only after the failed server has been fenced (SIGKILL of everything under its directory).
            **Back healthy** = the timeline's first `healthy` event (the restarted server answered its check; for a stopped process, which is continued and not restarted, the `resolved` event) − the injection.
            **To outcome** = the `resolved`/`quarantined` timeline event − the injection; `resolved` waits until the
            restarted server has been healthy for the plan's 10 s minimum uptime. Classification is the incident's final
            class against the expected one; the outcome is the final state and restarts against the expected ones.
            R = {f.Options.Repeat} per failure and policy, the crash loop R = {f.Options.CrashLoopRepeat} (a production crash loop
            takes about a minute; `--crash-loop-repeat 5` makes the run about ten minutes). The six failures run concurrently on one broker (one stream each, trials in a stream one
            after another); p50 is nearest-rank, so with R = 5 it is the 3rd value.
            """));
        md.AppendLine();
        md.AppendLine("Policies:");
        md.AppendLine();
        foreach (var p in f.Policies)
        {
            md.AppendLine(string.Create(CultureInfo.InvariantCulture, $"- **{p.Name}**: {p.Describe()}. Bound for a dead or stopped process = interval + supervisor tick = {Sec(p.ExitBound)} s; for a hang (alive, not stopped, not answering; not injected here) = interval + (failures − 1) × max(interval, timeout + tick) + timeout + tick = {Sec(p.HangBound)} s."));
        }

        md.AppendLine();
        md.AppendLine("### Detection, classification and outcome (seconds after the injection)");
        md.AppendLine();
        md.AppendLine("| policy | failure | service | n | detection p50 / max | bound | seen p50 / max | class: correct / n (expected) | correct class at p50 | outcome: as expected / n (expected) | back healthy p50 / max | to outcome p50 / max |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var p in f.Policies)
        {
            foreach (var s in f.Scenarios)
            {
                var ts = f.Trials.Where(t => t.Policy == p && t.Scenario == s).ToList();
                if (ts.Count == 0)
                {
                    continue;
                }

                var expectedOutcome = $"{s.ExpectedState}, {s.ExpectedRestarts(p)} restart{(s.ExpectedRestarts(p) == 1 ? string.Empty : "s")}";
                md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {p.Name} | {s.Title} | {s.Service.Name} | {ts.Count} | **{Stats.Of(ts.Select(t => t.Detection)).Pair}** | {Sec(s.DetectionBound(p))} | {Stats.Of(ts.Select(t => t.Visible)).Pair} | {ts.Count(t => t.ClassCorrect)} / {ts.Count} (`{s.ExpectedClass}`) | {P50(ts.Select(t => t.ToCorrectClass))} | {ts.Count(t => t.OutcomeCorrect)} / {ts.Count} ({expectedOutcome}) | {(s.ExpectedState == "resolved" ? Stats.Of(ts.Select(t => t.ToHealthyAgain)).Pair : "–")} | {Stats.Of(ts.Select(t => t.ToOutcome)).Pair} |"));
            }
        }

        md.AppendLine();
        md.AppendLine(Findings(f));
        md.AppendLine("<details><summary>Every trial</summary>");
        md.AppendLine();
        md.AppendLine("| policy | failure | # | detection | seen | class when seen → final | state | restarts | incidents | restart → healthy | back healthy | to outcome | failed checks | error |");
        md.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var t in f.Trials.OrderBy(t => f.Policies.ToList().IndexOf(t.Policy)).ThenBy(t => f.Scenarios.ToList().IndexOf(t.Scenario)).ThenBy(t => t.Index))
        {
            md.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {t.Policy.Name} | {t.Scenario.Key} | {t.Index} | {Sec(t.Detection)} | {Sec(t.Visible)} | {t.FirstClass ?? "–"} → {t.FinalClass ?? "–"} | {t.FinalState ?? "–"} | {t.Restarts} | {t.Incidents} | {Sec(t.RestartToHealthy)} | {Sec(t.ToHealthyAgain)} | {Sec(t.ToOutcome)} | {t.FailedChecks?.ToString(CultureInfo.InvariantCulture) ?? "–"} | {t.Error ?? string.Empty} |"));
        }

        md.AppendLine();
        md.AppendLine("</details>");
        md.AppendLine();
        md.AppendLine(Comparison.Table);
        md.AppendLine(End);
        return md.ToString();
    }

    /// <summary>Replaces this section of <paramref name="path"/>, or appends it; the rest of the file is left as it is.</summary>
    public static async Task WriteAsync(string path, string section, CancellationToken ct)
    {
        // Read immediately before writing: another benchmark owns another section of the same file.
        var text = File.Exists(path)
            ? await File.ReadAllTextAsync(path, ct)
            : string.Empty;
        var start = text.IndexOf(Start, StringComparison.Ordinal);
        var end = text.IndexOf(End, StringComparison.Ordinal);
        text = start >= 0 && end > start
            ? text[..start] + section.TrimEnd('\n') + text[(end + End.Length)..]
            : text.Length == 0 ? section : text.TrimEnd('\n') + "\n\n" + section;
        await File.WriteAllTextAsync(path, text.TrimEnd('\n') + "\n", ct);
    }

    private static string Findings(Figures f)
    {
        var notes = new List<string>();
        foreach (var t in f.Trials.Where(t => t.OverBound))
        {
            notes.Add(string.Create(CultureInfo.InvariantCulture, $"{t.Policy.Name} {t.Scenario.Key} #{t.Index}: detected after {Sec(t.Detection)} s, over the {Sec(t.Scenario.DetectionBound(t.Policy))} s bound."));
        }

        foreach (var t in f.Trials.Where(t => t.Error is null && !t.ClassCorrect))
        {
            notes.Add($"{t.Policy.Name} {t.Scenario.Key} #{t.Index}: classified `{t.FinalClass}`, expected `{t.Scenario.ExpectedClass}`.");
        }

        foreach (var t in f.Trials.Where(t => t.Error is null && !t.OutcomeCorrect))
        {
            notes.Add($"{t.Policy.Name} {t.Scenario.Key} #{t.Index}: ended {t.FinalState} after {t.Restarts} restart(s), expected {t.Scenario.ExpectedState} after {t.Scenario.ExpectedRestarts(t.Policy)}.");
        }

        foreach (var t in f.Trials.Where(t => t.Incidents > 1))
        {
            notes.Add($"{t.Policy.Name} {t.Scenario.Key} #{t.Index}: one failure made {t.Incidents} incidents.");
        }

        foreach (var t in f.Trials.Where(t => t.Error is not null))
        {
            notes.Add($"{t.Policy.Name} {t.Scenario.Key} #{t.Index}: {t.Error}.");
        }

        return notes.Count == 0
            ? "Every trial was detected within its bound, classified as expected and ended as expected, with one incident per failure.\n"
            : "Deviations:\n\n" + string.Concat(notes.Select(n => "- " + n + "\n"));
    }

    private static string P50(IEnumerable<TimeSpan?> values) => Stats.Of(values) is { Count: > 0 } s ? Stats.S(s.P50) : "–";

    private static string Sec(TimeSpan? t) => t is { } v ? Stats.S(v.TotalSeconds) : "–";
}
