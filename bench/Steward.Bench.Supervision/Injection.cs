namespace Steward.Bench.Supervision;

/// <summary>An injected failure: when it happened and, for a crash loop, the killer that keeps it going.</summary>
internal sealed record Injection(DateTimeOffset At, CrashLoopKiller? Killer);
