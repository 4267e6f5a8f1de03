using Steward.Server.Metrics;

namespace Steward.Server.StateStore;

/// <summary>
/// Runs the broker's work (every other hosted service: operations, supervisor, schedulers, pool, pruning) only while
/// this broker holds the lease. A standby looks at the lease every fifth of its duration and takes it over when its
/// holder stopped renewing; the holder renews it as often, and fences itself (stops the process at once, as a kill -9
/// would, which the durable operations survive) when it was taken over or when three quarters of the duration passed
/// without a renewal — before any standby can think it free. A graceful stop hands the lease over at once.
/// </summary>
internal sealed class ActiveBroker(
    IServiceProvider services,
    IReadOnlyList<ServiceDescriptor> work,
    LeaseKeeper keeper,
    BrokerRole role,
    TimeProvider clock,
    ILogger<ActiveBroker> logger,
    Action<string> fence) : IHostedService, IDisposable
{
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _renewing = new();
    private readonly List<IHostedService> _started = [];
    private Task _run = Task.CompletedTask;
    private Task _renewals = Task.CompletedTask;
    private ITimer? _fence;

    private TimeSpan Look => keeper.Duration / 5;

    private TimeSpan FenceAfter => keeper.Duration * 3 / 4;

    public Task StartAsync(CancellationToken cancellationToken)
    {
        _run = Task.Run(() => RunAsync(_stopping.Token), CancellationToken.None);
        return Task.CompletedTask;
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await _run.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);

        // The work stops while the lease is still renewed, so no standby starts it again in the meantime.
        for (var i = _started.Count - 1; i >= 0; i--)
        {
            await _started[i].StopAsync(cancellationToken);
        }

        await _renewing.CancelAsync();
        await _renewals.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        _fence?.Dispose();
        try
        {
            if (keeper.Held is not null)
            {
                await keeper.ReleaseAsync(cancellationToken);
                StateLog.Released(logger, keeper.Me);
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Not given up: a standby takes over when the lease's duration has passed.
            StateLog.LeaseUnreachable(logger, keeper.Me, ex);
        }
    }

    public void Dispose()
    {
        _fence?.Dispose();
        _stopping.Dispose();
        _renewing.Dispose();
    }

    private async Task RunAsync(CancellationToken stopping)
    {
        var announced = (string?)null;
        while (!await LooksAsync(keeper.TryTakeAsync, stopping))
        {
            role.SawActive(keeper.ObservedHolder);
            if (keeper.ObservedHolder != announced)
            {
                announced = keeper.ObservedHolder;
                StateLog.Standby(logger, keeper.Me, announced.Length == 0 ? "no broker" : announced);
            }

            await Task.Delay(Look, clock, stopping);
        }

        _fence = clock.CreateTimer(_ => Fence("the lease was not renewed for three quarters of its duration"), null, FenceAfter, Timeout.InfiniteTimeSpan);
        _renewals = RenewAsync(_renewing.Token);
        StateLog.Active(logger, keeper.Me, keeper.Held!.Epoch);
        try
        {
            // What the metrics summarise changed while this broker was standing by.
            await services.LoadObservedStateAsync(stopping);
            foreach (var descriptor in work)
            {
                stopping.ThrowIfCancellationRequested();
                var service = Resolve(descriptor);
                await service.StartAsync(stopping);
                _started.Add(service);
            }
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            // As a broker alone would fail its start: another broker may do better.
            Fence($"its work did not start: {ex.Message}");
            return;
        }

        // As a broker alone listens only once its hosted services started: no request meets work not yet running.
        role.SawActive(keeper.Me);
        role.BecomeActive();
    }

    private async Task RenewAsync(CancellationToken renewing)
    {
        while (!renewing.IsCancellationRequested)
        {
            await Task.Delay(Look, clock, renewing).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            if (renewing.IsCancellationRequested)
            {
                return;
            }

            var start = clock.GetTimestamp();
            using var timeout = new CancellationTokenSource(Look, clock);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(renewing, timeout.Token);
            try
            {
                if (!await keeper.RenewAsync(linked.Token))
                {
                    Fence("another broker took the lease over");
                    return;
                }

                // Counted from before the renewal was sent: no standby can have seen it earlier.
                var left = FenceAfter - clock.GetElapsedTime(start);
                _fence?.Change(left > TimeSpan.Zero ? left : TimeSpan.Zero, Timeout.InfiniteTimeSpan);
            }
            catch (Exception ex) when (!renewing.IsCancellationRequested)
            {
                StateLog.LeaseUnreachable(logger, keeper.Me, ex);
            }
        }
    }

    /// <summary>One candidate's look at the lease; a store that cannot be reached is a look that found it held.</summary>
    private async Task<bool> LooksAsync(Func<CancellationToken, Task<bool>> look, CancellationToken stopping)
    {
        try
        {
            return await look(stopping);
        }
        catch (Exception ex) when (!stopping.IsCancellationRequested)
        {
            StateLog.LeaseUnreachable(logger, keeper.Me, ex);
            return false;
        }
    }

    private void Fence(string reason)
    {
        StateLog.Fenced(logger, keeper.Me, reason);
        fence(reason);
    }

    private IHostedService Resolve(ServiceDescriptor descriptor) =>
        (IHostedService)(descriptor.ImplementationInstance
            ?? descriptor.ImplementationFactory?.Invoke(services)
            ?? ActivatorUtilities.CreateInstance(services, descriptor.ImplementationType!));
}
