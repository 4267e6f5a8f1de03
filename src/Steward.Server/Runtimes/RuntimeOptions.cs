using System.ComponentModel.DataAnnotations;
using Steward.Runtime.Kubernetes;
using Steward.Server.Configuration;

namespace Steward.Server.Runtimes;

/// <summary>Where instances run: server processes on this machine (the default), or pods on a Kubernetes cluster (docs/kubernetes.md).</summary>
[SettingsSection("Runtime")]
internal sealed record RuntimeOptions
{
    public const string Local = "local";
    public const string Kubernetes = "kubernetes";

    [Setting("STEWARD_RUNTIME", "where instances run: `local` runs each as a server process on this machine; `kubernetes` runs each in a pod of its own (a StatefulSet with a volume claim, a ConfigMap and a Service) on a cluster (docs/kubernetes.md)")]
    [AllowedValues(Local, Kubernetes)]
    public string Kind { get; init; } = Local;

    [Setting("STEWARD_KUBERNETES_KUBECONFIG", "with STEWARD_RUNTIME=kubernetes: the kubeconfig file of the cluster; empty: the pod's service account when the broker runs in the cluster, else ~/.kube/config", Default = "empty")]
    public string? Kubeconfig { get; init; }

    [Setting("STEWARD_KUBERNETES_NAMESPACE", "with STEWARD_RUNTIME=kubernetes: the namespace every instance's objects live in; created when missing", Allowed = "a DNS label: lowercase letters, digits and `-`, at most 63")]
    [RegularExpression("^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")]
    public string Namespace { get; init; } = "steward";

    [Setting("STEWARD_KUBERNETES_IMAGE", "with STEWARD_RUNTIME=kubernetes: the image instances run in; it must hold the servers' binaries at the paths the engines use (STEWARD_POSTGRESQL_BIN_DIR, STEWARD_REDIS_BIN_DIR), sh, setpriv and coreutils")]
    public string Image { get; init; } = "localhost/steward/postgres:15";

    [Setting("STEWARD_KUBERNETES_IMAGE_PULL_POLICY", "with STEWARD_RUNTIME=kubernetes: the pods' imagePullPolicy")]
    [AllowedValues("IfNotPresent", "Always", "Never")]
    public string ImagePullPolicy { get; init; } = "IfNotPresent";

    [Setting("STEWARD_KUBERNETES_STORAGE_CLASS", "with STEWARD_RUNTIME=kubernetes: the StorageClass of the instances' volume claims; empty: the cluster's default", Default = "empty")]
    public string? StorageClass { get; init; }

    [Setting("STEWARD_KUBERNETES_VOLUME_SIZE", "with STEWARD_RUNTIME=kubernetes: the size each instance's volume claim asks for, as a Kubernetes quantity", Allowed = "e.g. `1Gi`, `500Mi`")]
    [RegularExpression("^[0-9]+(Ki|Mi|Gi|Ti|k|M|G|T)?$")]
    public string VolumeSize { get; init; } = "1Gi";

    [Setting("STEWARD_KUBERNETES_SERVICE_USER", "with STEWARD_RUNTIME=kubernetes: the user of the image the servers and tools run as", Allowed = "a user name of the image other than root")]
    [RegularExpression("^(?!root$)[a-z_][a-z0-9_-]*$")]
    public string ServiceUser { get; init; } = "postgres";

    [Setting("STEWARD_KUBERNETES_POD_START_TIMEOUT_SECONDS", "with STEWARD_RUNTIME=kubernetes: how long an instance's pod may take to be scheduled, get its volume and start")]
    [Range(5, 3600)]
    public int PodStartTimeoutSeconds { get; init; } = 180;

    public KubernetesRuntimeOptions ToKubernetes() => new()
    {
        Kubeconfig = Kubeconfig,
        Namespace = Namespace,
        Image = Image,
        ImagePullPolicy = ImagePullPolicy,
        StorageClass = string.IsNullOrEmpty(StorageClass) ? null : StorageClass,
        VolumeSize = VolumeSize,
        ServiceUser = ServiceUser,
        PodStartTimeout = TimeSpan.FromSeconds(PodStartTimeoutSeconds),
    };
}
