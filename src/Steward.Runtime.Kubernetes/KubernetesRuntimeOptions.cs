namespace Steward.Runtime.Kubernetes;

/// <summary>Settings of the Kubernetes runtime (docs/kubernetes.md).</summary>
public sealed record KubernetesRuntimeOptions
{
    /// <summary>The kubeconfig file; null: the pod's service account when the broker runs in a cluster, else ~/.kube/config.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>The namespace every instance's objects live in (created when missing).</summary>
    public string Namespace { get; init; } = "steward";

    /// <summary>The image instances run in: it must hold the servers' binaries at the paths the engines use, sh, setpriv and coreutils.</summary>
    public string Image { get; init; } = "localhost/steward/postgres:15";

    /// <summary>Kubernetes' imagePullPolicy for <see cref="Image"/>.</summary>
    public string ImagePullPolicy { get; init; } = "IfNotPresent";

    /// <summary>The StorageClass of the instances' volumes; null: the cluster's default.</summary>
    public string? StorageClass { get; init; }

    /// <summary>The size each instance's volume asks for.</summary>
    public string VolumeSize { get; init; } = "1Gi";

    /// <summary>The user of the image the servers and tools run as (never root).</summary>
    public string ServiceUser { get; init; } = "postgres";

    /// <summary>How long a pod may take to be scheduled, get its volume and start.</summary>
    public TimeSpan PodStartTimeout { get; init; } = TimeSpan.FromSeconds(180);
}
