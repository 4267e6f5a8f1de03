using System.Globalization;
using System.Text.Json;
using k8s;
using k8s.Models;

namespace Steward.Runtime.Kubernetes;

/// <summary>
/// An instance's files preserved for inspection (a rebuild moves them aside before it makes a new place): its volume
/// claim leaves the instance, relabelled rather than deleted, so the volume stays until the preserved copy's retention
/// removes it; the instance's next place gets a claim of its own under another name. A preserved copy is named
/// <c>persistentvolumeclaim/&lt;namespace&gt;/&lt;claim&gt;</c>; mount the claim in a pod to look into it.
/// </summary>
public sealed partial class KubernetesRuntime
{
    /// <summary>The label of a preserved claim, with the internal id of the instance it was taken from.</summary>
    public const string PreservedFromLabel = "steward.io/preserved-from";

    private const string PreservedNameAnnotation = "steward.io/preserved-name";
    private const string PreservedAtAnnotation = "steward.io/preserved-at";
    private const string PreservedPrefix = "persistentvolumeclaim/";

    public async Task<string> PreserveAsync(InstancePaths paths, string name, DateTimeOffset at, CancellationToken cancellationToken)
    {
        var id = IdOf(paths.Root);
        if (await PreservedClaimsAsync(id, cancellationToken) is var kept && kept.FirstOrDefault(c => Annotation(c, PreservedNameAnnotation) == name) is { } done)
        {
            return PlaceOf(done);
        }

        // Nothing may run in (or write into) the files: the server is stopped and the pod deleted with its StatefulSet.
        // The Service and the ConfigMap are orphaned, not deleted: the instance's next place keeps the Service (and its address).
        _running.TryRemove(id, out _);
        if (await PodRunsAsync(id, cancellationToken))
        {
            await StopAsync(paths, 9, TimeSpan.Zero, cancellationToken);
        }

        await IgnoreNotFound(() => _client.AppsV1.DeleteNamespacedStatefulSetAsync(NameFor(id), Namespace, propagationPolicy: "Orphan", cancellationToken: cancellationToken));
        var selector = SelectorFor(id);
        foreach (var pod in (await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items)
        {
            await IgnoreNotFound(() => _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, Namespace, gracePeriodSeconds: 0, cancellationToken: cancellationToken));
        }

        await WaitUntilAsync(async ct => (await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: selector, cancellationToken: ct)).Items.Count == 0, cancellationToken);

        // The claim leaves the instance: without its label, neither the instance's deletion nor its next place touch it.
        var claims = (await _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items;
        foreach (var claim in claims)
        {
            var patch = new
            {
                metadata = new
                {
                    labels = new Dictionary<string, string?> { [InstanceLabel] = null, [PreservedFromLabel] = id },
                    annotations = new Dictionary<string, string> { [PreservedNameAnnotation] = name, [PreservedAtAnnotation] = at.ToString("O", CultureInfo.InvariantCulture) },
                },
            };
            await _client.CoreV1.PatchNamespacedPersistentVolumeClaimAsync(new V1Patch(JsonSerializer.Serialize(patch), V1Patch.PatchType.MergePatch), claim.Metadata.Name, Namespace, cancellationToken: cancellationToken);
        }

        LogPreserved(_logger, id, claims.Count, name);
        return claims.Count > 0 ? PreservedPrefix + Namespace + "/" + claims[0].Metadata.Name : PreservedPrefix + Namespace + "/(no volume claim was left to preserve)";
    }

    public IReadOnlyList<(string Path, DateTimeOffset PreservedAt)> ListPreserved() =>
        [.. Await(ct => _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: PreservedFromLabel, cancellationToken: ct), CancellationToken.None).Items
            .Select(c => (PlaceOf(c), DateTimeOffset.TryParse(Annotation(c, PreservedAtAnnotation), CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t) ? t : DateTimeOffset.MinValue))
            .OrderBy(p => p.Item2)];

    public async Task DeletePreservedAsync(string path, CancellationToken cancellationToken)
    {
        var prefix = PreservedPrefix + Namespace + "/";
        var claim = path.StartsWith(prefix, StringComparison.Ordinal) ? path[prefix.Length..] : throw new ArgumentException($"{path} is not a preserved copy in namespace {Namespace}", nameof(path));
        var found = (await _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, fieldSelector: $"metadata.name={claim}", labelSelector: PreservedFromLabel, cancellationToken: cancellationToken)).Items;
        if (found.Count > 0)
        {
            await IgnoreNotFound(() => _client.CoreV1.DeleteNamespacedPersistentVolumeClaimAsync(claim, Namespace, cancellationToken: cancellationToken));
        }
    }

    /// <summary>The claim template name for the instance's next StatefulSet: "data", unless a preserved claim holds that name.</summary>
    private async Task<string> FreeClaimAsync(string id, CancellationToken cancellationToken)
    {
        var taken = (await PreservedClaimsAsync(id, cancellationToken)).Select(c => c.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        var suffix = "-" + PodName(id);
        for (var n = 1; ; n++)
        {
            var claim = n == 1 ? "data" : "data-" + n.ToString(CultureInfo.InvariantCulture);
            if (!taken.Contains(claim + suffix))
            {
                return claim;
            }
        }
    }

    private async Task<IList<V1PersistentVolumeClaim>> PreservedClaimsAsync(string id, CancellationToken cancellationToken) =>
        (await _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: $"{PreservedFromLabel}={id}", cancellationToken: cancellationToken)).Items;

    private static string? Annotation(V1PersistentVolumeClaim claim, string key) =>
        claim.Metadata.Annotations is { } annotations && annotations.TryGetValue(key, out var value) ? value : null;

    private string PlaceOf(V1PersistentVolumeClaim claim) => PreservedPrefix + Namespace + "/" + claim.Metadata.Name;

    /// <summary>Polls <paramref name="done"/> with a growing pause until it is true, within the pod start timeout.</summary>
    private async Task WaitUntilAsync(Func<CancellationToken, Task<bool>> done, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.PodStartTimeout);
        var delay = TimeSpan.FromMilliseconds(100);
        while (!await done(deadline.Token))
        {
            await Task.Delay(delay, deadline.Token);
            delay = TimeSpan.FromMilliseconds(Math.Min(1000, delay.TotalMilliseconds * 1.5));
        }
    }
}
