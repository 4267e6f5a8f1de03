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
        var refusals = await RefusalsAsync(name, cancellationToken);
        var set = await _client.AppsV1.ReadNamespacedStatefulSetAsync(name, Namespace, cancellationToken: cancellationToken);
        if (MemoryOf(set.Spec.Template.Spec) != memory)
        {
            // The claim template cannot change: the set keeps the one it has (data, or data-2 after a rebuild).
            var claim = set.Spec.VolumeClaimTemplates.Single().Metadata.Name;
            set = await _client.AppsV1.PatchNamespacedStatefulSetAsync(Patch(InstanceObjects.StatefulSet(_options, id, paths.Root, shape, claim)), name, Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);
            LogReshaped(_logger, id, memory);
        }

        // Done when the pod that runs has the new resources: a pod's spec never changes, so it is the replacement. A pod
        // the cluster refuses to create (a quota, a limit range) fails the step at once, with the cluster's reason.
        _running.TryRemove(id, out _);
        var state = "no pod yet";
        try
        {
            await WaitUntilAsync(
                async ct =>
                {
                    var pod = (await _client.CoreV1.ListNamespacedPodAsync(Namespace, fieldSelector: $"metadata.name={PodName(id)}", cancellationToken: ct)).Items.FirstOrDefault();
                    if (pod is not null && MemoryOf(pod.Spec) == memory)
                    {
                        var started = Started(pod, out var waiting);
                        state = waiting ?? "started";
                        return started;
                    }

                    state = pod is null ? "no pod yet" : "the pod of the previous plan is being replaced";
                    if (pod is not null)
                    {
                        return false;
                    }

                    // Refusals until the controller has seen the new spec may be of the previous one (a retry of a pod
                    // refused before): they are not this change's.
                    var now = await RefusalsAsync(name, ct);
                    var seen = (await _client.AppsV1.ReadNamespacedStatefulSetAsync(name, Namespace, cancellationToken: ct)).Status?.ObservedGeneration;
                    if ((seen ?? 0) < set.Metadata.Generation)
                    {
                        refusals = now;
                    }
                    else if (now.FirstOrDefault(r => !refusals.TryGetValue(r.Key, out var before) || before.Count != r.Value.Count).Value.Message is { } refused)
                    {
                        throw new InvalidOperationException($"the cluster refuses the pod of {paths.Root} with the new plan's {memory} of memory: {refused}");
                    }

                    return false;
                },
                cancellationToken);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"the pod of {paths.Root} with the new plan's {memory} of memory did not start within {_options.PodStartTimeout.TotalSeconds:0} s: {state}");
        }

        await WaitForManagerAsync(id, cancellationToken);
    }

    /// <summary>The StatefulSet controller's events about pods it could not create, by event uid: their count and message.</summary>
    private async Task<Dictionary<string, (int? Count, string? Message)>> RefusalsAsync(string name, CancellationToken cancellationToken) =>
        (await _client.CoreV1.ListNamespacedEventAsync(Namespace, fieldSelector: $"involvedObject.kind=StatefulSet,involvedObject.name={name},reason=FailedCreate", cancellationToken: cancellationToken)).Items
            .ToDictionary(e => e.Metadata.Uid, e => (e.Count, (string?)e.Message), StringComparer.Ordinal);

    private static string? MemoryOf(V1PodSpec spec) =>
        spec.Containers.FirstOrDefault(c => c.Name == Container)?.Resources?.Limits is { } limits && limits.TryGetValue("memory", out var memory) ? memory.ToString() : null;

    [LoggerMessage(EventId = 2107, Level = LogLevel.Information, Message = "Gave the pod of instance {Id} the memory of its new plan ({Memory}); the StatefulSet replaces the pod")]
    private static partial void LogReshaped(ILogger logger, string id, string memory);
}
