using Steward.Engines;
using Steward.Errors;
using Steward.Instances;
using Steward.Runtime;
using Steward.Server.Logging;

namespace Steward.Server.Operations;

/// <summary>
/// The first start of a new instance's server, when its port was taken between allocation and start: the allocator
/// checks that nothing listens on a port, but any process may bind it a moment later (another program, an outgoing
/// connection given it as its local port). The server then fails to bind and exits; rather than failing the
/// provision, the instance gets another port and is configured and started again.
/// </summary>
internal sealed partial class InstanceWorkflows
{
    private const int StartAttempts = 3;

    /// <summary>
    /// Writes the configuration (again: a broker killed after a new port was saved resumes here with the port the
    /// instance record holds) and starts the server, moving to another port while the one it has is taken.
    /// </summary>
    private async Task<ServiceInstance> StartNewAsync(ServiceInstance instance, IDataServiceEngine engine, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            await engine.ConfigureAsync(engines.Context(instance), cancellationToken);
            try
            {
                await EnsureRunningAsync(instance, cancellationToken);
                return instance;
            }
            catch (StewardException) when (attempt < StartAttempts && PortTakenByAnother(instance))
            {
                var taken = instance.Port!.Value;
                await ports.AllocateAsync(async port => await SaveAsync(instance = instance with { Port = port }, cancellationToken), cancellationToken);
                Log.PortTakenAtStart(logger, instance.Id, taken, instance.Port!.Value);
            }
        }
    }

    /// <summary>The server is not running and its port is held: by another process, since this instance has none.</summary>
    private bool PortTakenByAnother(ServiceInstance instance) =>
        instance.Port is { } port && Runtime.GetStatus(Runtime.PathsFor(instance.InternalId)) is not ProcessStatus.Running && !Runtime.IsPortFree(port);
}
