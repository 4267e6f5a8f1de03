using k8s.Models;
using Steward.Runtime;

namespace Steward.Runtime.Kubernetes;

/// <summary>The Kubernetes objects of one instance, as server-side apply documents.</summary>
internal static class InstanceObjects
{
    /// <summary>Memory for the instance manager, tools (initdb) and the server's overhead beyond the plan's budget.</summary>
    private const int OverheadMb = 128;

    public static V1ObjectMeta Metadata(string id, string name, V1OwnerReference? owner) => new()
    {
        Name = name,
        Labels = Labels(id),
        OwnerReferences = owner is null ? null : [owner],
    };

    public static Dictionary<string, string> Labels(string place)
    {
        var labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = "steward-instance",
            ["app.kubernetes.io/managed-by"] = "steward",
        };
        foreach (var (key, value) in Selector(place))
        {
            labels[key] = value;
        }

        return labels;
    }

    /// <summary>
    /// The labels that select a place's pod and objects: the instance's, and for a member of a highly available instance
    /// its member label too (each member's StatefulSet must select its own pod only).
    /// </summary>
    public static Dictionary<string, string> Selector(string place) => Split(place) is (var id, { } member)
        ? new() { [KubernetesRuntime.InstanceLabel] = id, [KubernetesRuntime.MemberLabel] = member }
        : new() { [KubernetesRuntime.InstanceLabel] = place };

    /// <summary>A place key as the instance's internal id and the member's name (null for an instance's own place).</summary>
    public static (string Id, string? Member) Split(string place) => place.IndexOf('-', StringComparison.Ordinal) is var dash and > 0
        ? (place[..dash], place[(dash + 1)..])
        : (place, null);

    /// <summary>The memory request and limit of an instance's pod: the plan's memory and the overhead.</summary>
    public static string Memory(InstanceShape shape) => $"{shape.Limits.MemoryMb + OverheadMb}Mi";

    /// <summary>
    /// The StatefulSet; its volume claim template is <paramref name="claim"/> ("data", or "data-2" and so on while the
    /// claims of earlier places of the instance are kept for inspection under their names), so its pod's claim is
    /// <c>&lt;claim&gt;-stw-&lt;id&gt;-0</c>.
    /// </summary>
    public static V1StatefulSet StatefulSet(KubernetesRuntimeOptions options, string id, string root, InstanceShape shape, string claim)
    {
        var name = KubernetesRuntime.NameFor(id);
        var memory = new ResourceQuantity(Memory(shape));
        return new V1StatefulSet
        {
            ApiVersion = "apps/v1",
            Kind = "StatefulSet",
            Metadata = Metadata(id, name, null),
            Spec = new V1StatefulSetSpec
            {
                Replicas = 1,
                ServiceName = name,
                PodManagementPolicy = "Parallel",
                Selector = new V1LabelSelector { MatchLabels = Selector(id) },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = Labels(id) },
                    Spec = new V1PodSpec
                    {
                        // The instance manager stops the server with its own stop signal and waits for it.
                        TerminationGracePeriodSeconds = 30,
                        EnableServiceLinks = false,
                        AutomountServiceAccountToken = false,
                        Affinity = Split(id).Member is null ? null : SpreadMembers(Split(id).Id),
                        Containers =
                        [
                            new V1Container
                            {
                                Name = "server",
                                Image = options.Image,
                                ImagePullPolicy = options.ImagePullPolicy,
                                Command = ["/bin/sh", "/steward-manager/instance-manager.sh", root, options.ServiceUser],
                                Ports = [new V1ContainerPort { ContainerPort = shape.Port, Name = "server", Protocol = "TCP" }],
                                Resources = new V1ResourceRequirements
                                {
                                    Requests = new Dictionary<string, ResourceQuantity> { ["memory"] = memory },
                                    Limits = new Dictionary<string, ResourceQuantity> { ["memory"] = memory },
                                },
                                VolumeMounts =
                                [
                                    new V1VolumeMount { Name = claim, MountPath = root },
                                    new V1VolumeMount { Name = "manager", MountPath = "/steward-manager", ReadOnlyProperty = true },
                                ],
                            },
                        ],
                        Volumes = [new V1Volume { Name = "manager", ConfigMap = new V1ConfigMapVolumeSource { Name = name } }],
                    },
                },
                VolumeClaimTemplates =
                [
                    new V1PersistentVolumeClaim
                    {
                        Metadata = new V1ObjectMeta { Name = claim, Labels = Labels(id) },
                        Spec = new V1PersistentVolumeClaimSpec
                        {
                            AccessModes = ["ReadWriteOnce"],
                            StorageClassName = options.StorageClass,
                            Resources = new V1VolumeResourceRequirements { Requests = new Dictionary<string, ResourceQuantity> { ["storage"] = new ResourceQuantity(options.VolumeSize) } },
                        },
                    },
                ],
            },
        };
    }

    /// <summary>
    /// The members of one highly available instance on different nodes where the cluster has them: preferred, not
    /// required, so a cluster with fewer nodes than members (the test cluster has one) still runs them all.
    /// </summary>
    private static V1Affinity SpreadMembers(string id) => new()
    {
        PodAntiAffinity = new V1PodAntiAffinity
        {
            PreferredDuringSchedulingIgnoredDuringExecution =
            [
                new V1WeightedPodAffinityTerm
                {
                    Weight = 100,
                    PodAffinityTerm = new V1PodAffinityTerm
                    {
                        TopologyKey = "kubernetes.io/hostname",
                        LabelSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { [KubernetesRuntime.InstanceLabel] = id } },
                    },
                },
            ],
        },
    };

    /// <summary>
    /// The address clients connect to. Its endpoints include the pod as soon as it has an address (no readiness probe
    /// gates them): whether the server answers is the broker's checks' business, as with the local runtime.
    /// </summary>
    public static V1Service Service(string id, int port, V1OwnerReference? owner) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = Metadata(id, KubernetesRuntime.NameFor(id), owner),
        Spec = new V1ServiceSpec
        {
            Type = "ClusterIP",
            PublishNotReadyAddresses = true,
            Selector = Selector(id),
            Ports = [new V1ServicePort { Port = port, Name = "server", Protocol = "TCP", TargetPort = port }],
        },
    };

    /// <summary>
    /// An endpoint of a highly available instance (<c>stw-&lt;id&gt;-rw</c>, <c>stw-&lt;id&gt;-ro</c>): it selects the
    /// instance's pods labelled with <paramref name="role"/>, and forwards to each one's own port (the named container
    /// port: every member listens on a port of its own). No owner: deleting the instance deletes it by label.
    /// </summary>
    public static V1Service RoleService(string id, string suffix, int port, string role)
    {
        var service = Service(id, port, null);
        service.Metadata = Metadata(id, KubernetesRuntime.NameFor(id) + "-" + suffix, null);
        service.Spec.Selector = new Dictionary<string, string> { [KubernetesRuntime.InstanceLabel] = id, [KubernetesRuntime.RoleLabel] = role };
        service.Spec.Ports = [new V1ServicePort { Port = port, Name = "server", Protocol = "TCP", TargetPort = "server" }];
        return service;
    }
}
