using System.Collections.Concurrent;
using System.Threading.Channels;
using Steward.Instances;
using Steward.Operations;
using Steward.Runtime;
using Steward.Server.Logging;
using Steward.State;

namespace Steward.Server.Operations;

/// <summary>
/// Executes operations, one at a time per instance. At start it resumes every operation a previous broker
/// left in progress and adopts (or restarts) the servers of ready instances, so a broker restart neither
/// loses work nor duplicates a process. On shutdown, running operations stop between steps and stay
/// in progress, to be resumed by the next start.
/// </summary>
internal sealed class OperationRunner(
    IStateStore store,
    InstanceWorkflows workflows,
    EngineRegistry engines,
    InstanceLocks locks,
    OperationsInFlight inFlight,
    IHostApplicationLifetime lifetime,
    TimeProvider time,
    ILogger<OperationRunner> logger) : BackgroundService
{
    private readonly Channel<Operation> _queue = Channel.CreateUnbounded<Operation>();
    private readonly ConcurrentDictionary<Task, byte> _running = new();

    /// <summary>Queues an operation to run in the background; its instance is held (<see cref="OperationsInFlight"/>) from now on.</summary>
    public void Enqueue(Operation operation)
    {
        inFlight.Hold(operation);
        if (!_queue.Writer.TryWrite(operation))
        {
            inFlight.Release(operation);
        }
    }

    /// <summary>Runs an operation now and returns its end state (synchronous bind and unbind).</summary>
    public Task<Operation> RunNowAsync(Operation operation)
    {
        inFlight.Hold(operation);
        return RunAsync(operation, lifetime.ApplicationStopping);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await RecoverAsync(stoppingToken);
            await foreach (var op in _queue.Reader.ReadAllAsync(stoppingToken))
            {
                Track(RunAsync(op, stoppingToken));
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }

        await Task.WhenAll(_running.Keys);
    }

    private async Task RecoverAsync(CancellationToken cancellationToken)
    {
        var inProgress = await store.ListInProgressOperationsAsync(cancellationToken);
        foreach (var op in inProgress)
        {
            Log.Resuming(logger, op.Id, op.Kind.ToString(), op.InstanceId, op.Step);
            Enqueue(op);
        }

        inFlight.Recovered();
        var busy = inProgress.Select(o => o.InstanceId).ToHashSet();
        foreach (var instance in await store.ListInstancesAsync(cancellationToken))
        {
            if (instance.State == InstanceState.Ready && !busy.Contains(instance.Id))
            {
                Track(AdoptAsync(instance, cancellationToken));
            }
        }
    }

    private async Task AdoptAsync(ServiceInstance instance, CancellationToken cancellationToken)
    {
        var gate = locks.For(instance.Id);
        await gate.WaitAsync(cancellationToken);
        try
        {
            var status = engines.Runtime.GetStatus(engines.Runtime.PathsFor(instance.InternalId));
            if (status is ProcessStatus.Running running)
            {
                Log.Adopted(logger, instance.Id, running.Pid);
            }
            else
            {
                // Not restarted blindly here: the supervisor classifies why it is down and decides.
                Log.FoundDown(logger, instance.Id, ServerLog.Describe(status));
            }

        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            Log.RestartFailed(logger, instance.Id, ex);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<Operation> RunAsync(Operation op, CancellationToken cancellationToken)
    {
        var gate = locks.For(op.InstanceId);
        await gate.WaitAsync(cancellationToken);
        try
        {
            return await workflows.RunAsync(op, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            var current = await store.GetOperationAsync(op.Id, CancellationToken.None) ?? op;
            Log.OperationInterrupted(logger, op.Id, op.Kind.ToString(), op.InstanceId, current.Step);
            return current;
        }
        catch (Exception ex)
        {
            // A fault outside the workflow's own handling (its records were missing): fail it visibly.
            var failed = op with { State = OperationState.Failed, Description = "internal error: " + ex.Message, UpdatedAt = time.GetUtcNow() };
            Log.OperationFailed(logger, op.Id, op.Kind.ToString(), op.InstanceId, failed.Description, ex);
            await store.SaveOperationAsync(failed, CancellationToken.None);
            return failed;
        }
        finally
        {
            gate.Release();
            inFlight.Release(op);
        }
    }

    private void Track(Task task)
    {
        _running.TryAdd(task, 0);
        task.ContinueWith(t => _running.TryRemove(t, out _), TaskScheduler.Default);
    }
}
