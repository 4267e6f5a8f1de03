namespace Steward.Bench;

/// <summary>Ctrl-C cancels a benchmark's work (so it cleans up its servers) instead of killing the process.</summary>
internal static class CtrlC
{
    public static CancellationTokenSource Cancels()
    {
        var cancel = new CancellationTokenSource();
        Console.CancelKeyPress += (_, e) =>
        {
            e.Cancel = true;
            cancel.Cancel();
        };
        return cancel;
    }
}
