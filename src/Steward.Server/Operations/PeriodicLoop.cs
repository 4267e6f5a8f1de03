namespace Steward.Server.Operations;

/// <summary>
/// The loop of the broker's background services (the supervisor, the HA controller, the schedulers): a tick, then a
/// pause of <c>interval</c> on the injected clock, until the host stops. A failed tick is reported and the next one
/// comes as usual; stopping cancels the tick or pause under way and ends the loop quietly.
/// </summary>
internal static class PeriodicLoop
{
    public static async Task RunAsync(Func<CancellationToken, Task> tick, TimeSpan interval, TimeProvider time, Action<Exception> failed, CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await tick(stoppingToken);
                }
                catch (Exception ex) when (!(ex is OperationCanceledException && stoppingToken.IsCancellationRequested))
                {
                    failed(ex);
                }

                await Task.Delay(interval, time, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
    }
}
