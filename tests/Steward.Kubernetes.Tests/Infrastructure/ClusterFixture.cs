using System.Diagnostics;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Steward.Backup.Tests.Infrastructure;
using Steward.Server.Tests.Infrastructure;

namespace Steward.Kubernetes.Tests.Infrastructure;

/// <summary>
/// A real Kubernetes cluster (scripts/k8s-cluster.sh brings it up when it is missing; `sh scripts/test.sh` starts that
/// in the background while the rest of the suite runs) and a broker with STEWARD_RUNTIME=kubernetes whose instances
/// live in a namespace of this test run, deleted with everything in it at the end. When the cluster cannot be brought
/// up, every test of the collection fails with the script's output: a missing cluster is never a skipped test.
/// </summary>
public sealed class ClusterFixture : IAsyncLifetime
{
    /// <summary>Supervision as tests want it: failures noticed within a second, restarts without a long back-off.</summary>
    public static readonly IReadOnlyDictionary<string, string> Supervision = new Dictionary<string, string>
    {
        ["STEWARD_HEALTH_INTERVAL_MS"] = "1000",
        ["STEWARD_HEALTH_TIMEOUT_MS"] = "3000",
        ["STEWARD_HEALTH_FAILURES"] = "3",
        ["STEWARD_RESTART_BACKOFF_MS"] = "100",
        ["STEWARD_STARTUP_TIMEOUT_MS"] = "60000",
    };

    private StewardServer? _server;
    private IKubernetes? _client;

    public StewardServer Server => _server ?? throw new InvalidOperationException("broker not started");

    public OsbClient Osb => Server.Client;

    public IKubernetes Client => _client ?? throw new InvalidOperationException("no cluster");

    /// <summary>This run's namespace: nothing else in the cluster is touched.</summary>
    public string Namespace { get; } = "steward-test-" + Guid.NewGuid().ToString("N")[..8];

    public string Kubeconfig { get; private set; } = string.Empty;

    public async Task InitializeAsync()
    {
        var script = Path.Combine(RepositoryRoot.Path, "scripts", "k8s-cluster.sh");
        var (up, upOutput) = await RunAsync("bash", [script, "up"], TimeSpan.FromMinutes(30));
        if (up != 0)
        {
            throw new InvalidOperationException($"the Kubernetes cluster could not be brought up (`bash scripts/k8s-cluster.sh up` exited with {up}):\n{Tail(upOutput, 40)}");
        }

        var (_, env) = await RunAsync("bash", [script, "env"], TimeSpan.FromSeconds(30));
        Kubeconfig = env.Split('\n').Select(l => l.Trim()).First(l => l.StartsWith("export KUBECONFIG=", StringComparison.Ordinal))["export KUBECONFIG=".Length..];
        _client = new k8s.Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig));
        _server = await StewardServer.StartAsync(new Dictionary<string, string>(Supervision)
        {
            ["STEWARD_RUNTIME"] = "kubernetes",
            ["STEWARD_KUBERNETES_KUBECONFIG"] = Kubeconfig,
            ["STEWARD_KUBERNETES_NAMESPACE"] = Namespace,
        });
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        if (_client is null)
        {
            return;
        }

        // The namespace and everything in it (volume claims included, whose volumes the StorageClass then deletes).
        try
        {
            await _client.CoreV1.DeleteNamespaceAsync(Namespace);
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromMinutes(2))
            {
                await _client.CoreV1.ReadNamespaceAsync(Namespace);
                await Task.Delay(500);
            }
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }

        _client.Dispose();
    }

    /// <summary>The broker's internal id of an instance: its objects carry it as the steward.io/instance label.</summary>
    public async Task<string> InternalIdAsync(string instanceId)
    {
        var reply = await Osb.ApiAsync($"/instances/{instanceId}");
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.Text);
        return Path.GetFileName(reply.Body.GetProperty("directory").GetString()!);
    }

    /// <summary>Provisions an instance and binds it once; its internal id and the binding's credentials.</summary>
    public async Task<(string InternalId, JsonElement Credentials)> ProvisionBoundAsync(string id, string serviceId, string planId)
    {
        await Osb.ProvisionReadyAsync(id, serviceId, planId);
        return (await InternalIdAsync(id), await Osb.BindReadyAsync(id, "b-" + id, serviceId, planId));
    }

    /// <summary>Deprovisions the instance and asserts that nothing with its label is left in the cluster.</summary>
    public async Task DeprovisionLeavingNothingAsync(string id, string internalId, string serviceId, string planId)
    {
        await Osb.DeprovisionAsync(id, serviceId, planId);
        var gone = await Osb.WaitAsync(id, timeoutSeconds: 180);
        gone.Status.ShouldBe(HttpStatusCode.Gone, gone.Text);
        (await ObjectsAsync(internalId)).ShouldBeEmpty();
    }

    /// <summary>Every object of the instance in the cluster as Kind/name, found by the instance's label alone.</summary>
    public async Task<IReadOnlyList<string>> ObjectsAsync(string internalId)
    {
        var selector = $"steward.io/instance={internalId}";
        var found = new List<string>();
        found.AddRange((await Client.AppsV1.ListNamespacedStatefulSetAsync(Namespace, labelSelector: selector)).Items.Select(o => "StatefulSet/" + o.Metadata.Name));
        found.AddRange((await Client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: selector)).Items.Select(o => "Pod/" + o.Metadata.Name));
        found.AddRange((await Client.CoreV1.ListNamespacedServiceAsync(Namespace, labelSelector: selector)).Items.Select(o => "Service/" + o.Metadata.Name));
        found.AddRange((await Client.CoreV1.ListNamespacedConfigMapAsync(Namespace, labelSelector: selector)).Items.Select(o => "ConfigMap/" + o.Metadata.Name));
        found.AddRange((await Client.CoreV1.ListNamespacedSecretAsync(Namespace, labelSelector: selector)).Items.Select(o => "Secret/" + o.Metadata.Name));
        found.AddRange((await Client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: selector)).Items.Select(o => "PersistentVolumeClaim/" + o.Metadata.Name));
        return found;
    }

    /// <summary>The names in an instance's directory on its volume, read in its pod (as the instance manager sees them).</summary>
    public Task<IReadOnlyList<string>> InstanceFilesAsync(string internalId) => PodLinesAsync(internalId, "ls", "-1", $"/steward/{internalId}");

    /// <summary>The names (comm) of every process in the instance's pod.</summary>
    public Task<IReadOnlyList<string>> PodProcessesAsync(string internalId) => PodLinesAsync(internalId, "sh", "-c", "cat /proc/[0-9]*/comm 2>/dev/null");

    /// <summary>Runs a shell script as root in the instance's pod (as an operator's <c>kubectl exec</c> would); its output lines.</summary>
    public Task<IReadOnlyList<string>> PodShellAsync(string internalId, string script) => PodLinesAsync(internalId, "sh", "-c", script);

    /// <summary>The instance's pod, read from the cluster.</summary>
    public Task<V1Pod> PodAsync(string internalId) => Client.CoreV1.ReadNamespacedPodAsync($"stw-{internalId}-0", Namespace);

    /// <summary>Waits until the supervisor reports the instance healthy (its first protocol check passed).</summary>
    public Task WaitHealthyAsync(string instanceId) => WaitForAsync(
        async () => (await Osb.ApiAsync($"/instances/{instanceId}")).Body.GetProperty("health").GetProperty("status").GetString() == "healthy" ? (bool?)true : null,
        $"instance {instanceId} healthy",
        TimeSpan.FromSeconds(60));

    /// <summary>Waits for an incident of the instance that <paramref name="done"/> accepts.</summary>
    public async Task<JsonElement> WaitForIncidentAsync(string instanceId, Func<JsonElement, bool> done, string what) => (await WaitForAsync(
        async () => (await IncidentsAsync(instanceId)).FirstOrDefault(done) is { ValueKind: JsonValueKind.Object } i ? (JsonElement?)i : null,
        what,
        TimeSpan.FromMinutes(3))).GetValueOrDefault();

    private async Task<IReadOnlyList<string>> PodLinesAsync(string internalId, params string[] command)
    {
        var output = new MemoryStream();
        await Client.NamespacedPodExecAsync($"stw-{internalId}-0", Namespace, "server", command, false, async (_, stdout, _) => await stdout.CopyToAsync(output), CancellationToken.None);
        return System.Text.Encoding.UTF8.GetString(output.ToArray()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
    }

    /// <summary>The incidents the broker recorded for an instance.</summary>
    public async Task<IReadOnlyList<JsonElement>> IncidentsAsync(string instanceId)
    {
        var reply = await Osb.ApiAsync($"/incidents?instance={instanceId}");
        reply.Status.ShouldBe(HttpStatusCode.OK, reply.Text);
        return reply.Body.GetProperty("incidents").EnumerateArray().ToList();
    }

    /// <summary>Polls <paramref name="probe"/> until it returns a value; fails with <paramref name="what"/> after <paramref name="timeout"/>.</summary>
    public static async Task<T> WaitForAsync<T>(Func<Task<T?>> probe, string what, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < timeout)
        {
            try
            {
                if (await probe() is { } value)
                {
                    return value;
                }
            }
            catch (Exception ex) when (ex is not ShouldAssertException)
            {
                last = ex;
            }

            await Task.Delay(250);
        }

        throw new TimeoutException($"{what}: not within {timeout.TotalSeconds:0} s{(last is null ? string.Empty : $" (last error: {last.Message})")}");
    }

    private static async Task<(int Code, string Output)> RunAsync(string file, IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var argument in arguments)
        {
            psi.ArgumentList.Add(argument);
        }

        using var process = Process.Start(psi)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            return (-1, $"timed out after {timeout.TotalMinutes:0} min\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, (await stdout) + (await stderr));
    }

    private static string Tail(string text, int lines) => string.Join('\n', text.Split('\n').TakeLast(lines));
}

[CollectionDefinition("kubernetes")]
public sealed class KubernetesCollection : ICollectionFixture<ClusterFixture>;
