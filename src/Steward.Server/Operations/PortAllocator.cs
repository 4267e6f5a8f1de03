using Steward.Errors;
using Steward.Runtime;
using Steward.Server.Configuration;
using Steward.State;

namespace Steward.Server.Operations;

/// <summary>Hands out loopback ports no other instance holds and nothing else listens on.</summary>
internal sealed class PortAllocator(IStateStore store, IInstanceRuntime runtime, StewardOptions options)
{
    private readonly SemaphoreSlim _gate = new(1, 1);

    /// <summary>Picks a port and records it on the instance through <paramref name="record"/> before releasing the lock.</summary>
    public async Task<int> AllocateAsync(Func<int, Task> record, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var taken = await store.AllocatedPortsAsync(cancellationToken);
            var (min, max) = options.InstancePorts;
            var span = max - min + 1;
            var start = Random.Shared.Next(span);
            for (var i = 0; i < span; i++)
            {
                var port = min + ((start + i) % span);
                if (!taken.Contains(port) && runtime.IsPortFree(port))
                {
                    await record(port);
                    return port;
                }
            }

            throw new StewardException(ErrorCode.ServiceUnavailable, $"no free port left in {min}-{max}");
        }
        finally
        {
            _gate.Release();
        }
    }
}
