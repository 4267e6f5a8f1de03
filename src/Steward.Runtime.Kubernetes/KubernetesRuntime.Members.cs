using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Steward.Runtime.Kubernetes;

/// <summary>
/// Highly available instances on Kubernetes: every member is a place of its own (StatefulSet <c>stw-&lt;id&gt;-&lt;member&gt;</c>,
/// its volume claim, its ConfigMap and Service, made by <see cref="CreateInstanceAsync"/> on the member's paths), and
/// clients reach the primary through the Service <c>stw-&lt;id&gt;-rw</c>, which selects the pod labelled
/// <c>steward.io/role=primary</c>, and the streaming standbys through <c>stw-&lt;id&gt;-ro</c> (<c>steward.io/role=replica</c>),
/// as CloudNativePG's Services do. A fenced member's StatefulSet is scaled to zero and annotated, its pod deleted at
/// once: the StatefulSet controller does not make it again, and its volume claim stays for inspection.
/// </summary>
public sealed partial class KubernetesRuntime : IMemberPlaces
{
    /// <summary>The label that says which endpoint leads to a member's pod: <c>primary</c> (read-write) or <c>replica</c> (read-only).</summary>
    public const string RoleLabel = "steward.io/role";

    /// <summary>The annotation a fenced member's StatefulSet and volume claim carry, with why and when.</summary>
    public const string FencedAnnotation = "steward.io/fenced";

    private readonly ConcurrentDictionary<string, string> _readOnlyHosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, byte> _fenced = new(StringComparer.Ordinal);

    public async Task CreateGroupAsync(InstancePaths instance, CancellationToken cancellationToken)
    {
        var id = IdOf(instance.Root);
        await EnsureNamespaceAsync(cancellationToken);
        if (await AnyObjectsAsync(id, exceptService: false, cancellationToken))
        {
            await RemoveAsync(id, keepService: false, cancellationToken);
        }
    }

    public async Task EnsureEndpointsAsync(InstancePaths instance, int port, int readOnlyPort, CancellationToken cancellationToken)
    {
        var id = IdOf(instance.Root);
        var rw = await _client.CoreV1.PatchNamespacedServiceAsync(Patch(InstanceObjects.RoleService(id, "rw", port, "primary")), NameFor(id) + "-rw", Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);
        var ro = await _client.CoreV1.PatchNamespacedServiceAsync(Patch(InstanceObjects.RoleService(id, "ro", readOnlyPort, "replica")), NameFor(id) + "-ro", Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);
        _hosts[id] = rw.Spec.ClusterIP;
        _readOnlyHosts[id] = ro.Spec.ClusterIP;
    }

    public string ReadOnlyHost(InstancePaths instance)
    {
        var id = IdOf(instance.Root);
        return _readOnlyHosts.TryGetValue(id, out var host)
            ? host
            : _readOnlyHosts[id] = Await(ct => _client.CoreV1.ReadNamespacedServiceAsync(NameFor(id) + "-ro", Namespace, cancellationToken: ct), CancellationToken.None).Spec.ClusterIP;
    }

    public async Task RouteAsync(InstancePaths member, MemberEndpoint endpoint, CancellationToken cancellationToken)
    {
        var role = endpoint switch
        {
            MemberEndpoint.ReadWrite => "primary",
            MemberEndpoint.ReadOnly => "replica",
            _ => null,
        };
        var patch = new { metadata = new { labels = new Dictionary<string, string?> { [RoleLabel] = role } } };
        await IgnoreNotFound(() => _client.CoreV1.PatchNamespacedPodAsync(new V1Patch(JsonSerializer.Serialize(patch), V1Patch.PatchType.MergePatch), PodName(IdOf(member.Root)), Namespace, cancellationToken: cancellationToken));
    }

    public async Task FenceAsync(InstancePaths member, string note, CancellationToken cancellationToken)
    {
        var id = IdOf(member.Root);
        if (InstanceObjects.Split(id).Member is null)
        {
            throw new ArgumentException($"{member.Root} is not a member's place: only members of highly available instances are fenced", nameof(member));
        }

        // Every process of the server killed first, in its pod, while it can be reached (as the local fence kills every
        // process of the member): a killed postmaster's backends live on as orphans of the instance manager, and deleting
        // the pod alone ends them only when the kubelet gets to it, possibly after the promotion.
        if (await PodRunsAsync(id, cancellationToken))
        {
            await StopAsync(member, 9, TimeSpan.Zero, cancellationToken);
        }

        // Recorded on the StatefulSet, with no replica: its controller never makes the pod again, whatever deletes it.
        var marker = new Dictionary<string, string> { [FencedAnnotation] = note };
        var set = new { metadata = new { annotations = marker }, spec = new { replicas = 0 } };
        await IgnoreNotFound(() => _client.AppsV1.PatchNamespacedStatefulSetAsync(new V1Patch(JsonSerializer.Serialize(set), V1Patch.PatchType.MergePatch), NameFor(id), Namespace, cancellationToken: cancellationToken));
        _fenced[id] = 0;
        _running.TryRemove(id, out _);

        // The pod goes at once, not after its grace period: a hung server must not take one more write.
        foreach (var pod in (await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: SelectorFor(id), cancellationToken: cancellationToken)).Items)
        {
            await IgnoreNotFound(() => _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, Namespace, gracePeriodSeconds: 0, cancellationToken: cancellationToken));
        }

        // The volume claim stays, marked, for an operator (kubectl get pvc -l steward.io/member=<member>).
        var claim = new { metadata = new { annotations = marker } };
        foreach (var pvc in (await _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: SelectorFor(id), cancellationToken: cancellationToken)).Items)
        {
            await IgnoreNotFound(() => _client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(new V1Patch(JsonSerializer.Serialize(claim), V1Patch.PatchType.MergePatch), pvc.Metadata.Name, Namespace, cancellationToken: cancellationToken));
        }

        LogFenced(_logger, id, Namespace);
    }

    public bool IsFenced(InstancePaths member)
    {
        var id = IdOf(member.Root);
        if (_fenced.ContainsKey(id))
        {
            return true;
        }

        try
        {
            var set = Await(ct => _client.AppsV1.ReadNamespacedStatefulSetAsync(NameFor(id), Namespace, cancellationToken: ct), CancellationToken.None);
            if (set.Metadata.Annotations?.ContainsKey(FencedAnnotation) == true)
            {
                _fenced[id] = 0;
                return true;
            }

            return false;
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    [LoggerMessage(EventId = 2110, Level = LogLevel.Warning, Message = "Fenced member {Place} in namespace {Namespace}: StatefulSet scaled to 0 and annotated, pod deleted, volume claim kept")]
    private static partial void LogFenced(ILogger logger, string place, string @namespace);
}
