using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Steward.Runtime.Kubernetes;

/// <summary>
/// A plan change on Kubernetes: the StatefulSet gets the new plan's memory request and limit, and its controller
/// replaces the pod (a pod's resources cannot change in place on Kubernetes 1.20). The server was stopped before; the
/// new pod, on the same volume, starts it only when the broker asks, as every pod does.
/// </summary>
public sealed partial class KubernetesRuntime
{
    public async Task ReshapeAsync(InstancePaths paths, InstanceShape shape, CancellationToken cancellationToken)
    {
        var id = IdOf(paths.Root);
        var name = NameFor(id);
        var memory = InstanceObjects.Memory(shape);
        var set = await _client.AppsV1.ReadNamespacedStatefulSetAsync(name, Namespace, cancellationToken: cancellationToken);
        if (MemoryOf(set.Spec.Template.Spec) != memory)
        {
            // The claim template cannot change: the set keeps the one it has (data, or data-2 after a rebuild).
            var claim = set.Spec.VolumeClaimTemplates.Single().Metadata.Name;
            await _client.AppsV1.PatchNamespacedStatefulSetAsync(Patch(InstanceObjects.StatefulSet(_options, id, paths.Root, shape, claim)), name, Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);
            LogReshaped(_logger, id, memory);
        }

        // Done when the pod that runs has the new resources: a pod's spec never changes, so it is the replacement.
        _running.TryRemove(id, out _);
        await WaitUntilAsync(
            async ct =>
            {
                var pods = await _client.CoreV1.ListNamespacedPodAsync(Namespace, fieldSelector: $"metadata.name={PodName(id)}", cancellationToken: ct);
                return pods.Items.FirstOrDefault() is { } pod && MemoryOf(pod.Spec) == memory && Started(pod, out _);
            },
            cancellationToken);
        await WaitForManagerAsync(id, cancellationToken);
    }

    private static string? MemoryOf(V1PodSpec spec) =>
        spec.Containers.FirstOrDefault(c => c.Name == Container)?.Resources?.Limits is { } limits && limits.TryGetValue("memory", out var memory) ? memory.ToString() : null;

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "Gave the pod of instance {Id} the memory of its new plan ({Memory}); the StatefulSet replaces the pod")]
    private static partial void LogReshaped(ILogger logger, string id, string memory);
}
