namespace Steward.Server.Operations;

/// <summary>
/// One recorded step of an operation. A resumed operation skips steps already recorded as done, except those
/// marked <see cref="Rerun"/>: steps that check or converge (start, wait until ready) and are cheap to repeat.
/// </summary>
internal sealed record Step(string Name, string Description, Func<CancellationToken, Task> Run, bool Rerun = false);
