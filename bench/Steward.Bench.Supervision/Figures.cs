namespace Steward.Bench.Supervision;

/// <summary>Everything one run measured, for the report.</summary>
internal sealed record Figures(Options Options, DateTimeOffset Date, TimeSpan Elapsed, MachineInfo Machine, IReadOnlyList<Policy> Policies, IReadOnlyList<Scenario> Scenarios, IReadOnlyList<Trial> Trials);
