using System.Collections.Concurrent;
using System.Globalization;
using System.Net;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Steward.Runtime.Kubernetes;

/// <summary>
/// Runs each instance in a pod of its own on a Kubernetes cluster: a one-replica StatefulSet whose
/// PersistentVolumeClaim holds the instance's files (data, config, run, log), a ConfigMap with the instance manager
/// (PID 1 of the pod, see instance-manager.sh) and a Service whose cluster IP clients connect to. Files and tools go
/// through exec into the pod, so the engines and the supervisor work as they do with the local runtime; the server
/// starts only when the broker asks, and Kubernetes never restarts it on its own (docs/kubernetes.md).
/// </summary>
public sealed partial class KubernetesRuntime : IInstanceRuntime, IDisposable
{
    /// <summary>Where an instance's volume is mounted in its pod; its files are under ROOT/&lt;internal id&gt;.</summary>
    public const string Root = "/steward";

    /// <summary>The label every object of an instance carries, with the instance's internal id.</summary>
    public const string InstanceLabel = "steward.io/instance";

    private const string ManagedBy = "app.kubernetes.io/managed-by";
    private const string FieldManager = "steward";
    private const string Container = "server";
    private const string ManagerDir = "/steward-manager";

    /// <summary>Where the members of a highly available instance are, under the instance's root (as HaLayout places them).</summary>
    private const string MembersDir = "members";

    private readonly KubernetesRuntimeOptions _options;
    private readonly IKubernetes _client;
    private readonly ILogger _logger;
    private readonly string _manager;
    private readonly ConcurrentDictionary<string, string> _hosts = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, (ProcessStatus Status, long At)> _running = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _namespaceGate = new(1, 1);
    private bool _namespaceReady;

    public KubernetesRuntime(KubernetesRuntimeOptions options, ILogger<KubernetesRuntime> logger)
    {
        _options = options;
        _logger = logger;
        var config = options.Kubeconfig is { Length: > 0 } file
            ? KubernetesClientConfiguration.BuildConfigFromConfigFile(file)
            : KubernetesClientConfiguration.IsInCluster()
                ? KubernetesClientConfiguration.InClusterConfig()
                : KubernetesClientConfiguration.BuildConfigFromConfigFile();
        _client = new k8s.Kubernetes(config);
        using var resource = typeof(KubernetesRuntime).Assembly.GetManifestResourceStream("instance-manager.sh")!;
        using var reader = new StreamReader(resource, Encoding.UTF8);
        _manager = reader.ReadToEnd();
    }

    /// <summary>The namespace the instances' objects live in.</summary>
    public string Namespace => _options.Namespace;

    /// <summary>The label every object of one member of a highly available instance carries besides <see cref="InstanceLabel"/>, with the member's name.</summary>
    public const string MemberLabel = "steward.io/member";

    /// <summary>
    /// The label selector that finds every object of one place: an instance (its members' included) by its internal id,
    /// or one member of a highly available instance by its place key (<c>&lt;internal id&gt;-&lt;member&gt;</c>).
    /// </summary>
    public static string SelectorFor(string place) => string.Join(",", InstanceObjects.Selector(place).Select(l => $"{l.Key}={l.Value}"));

    /// <summary>The name of the StatefulSet, Service and ConfigMap of an instance, or of one member (by its place key).</summary>
    public static string NameFor(string place) => "stw-" + place;

    public string ListenAddress => "0.0.0.0";

    /// <summary>Clients reach the server through its Service (kube-proxy) from anywhere the cluster routes from.</summary>
    public string ClientNetwork => "0.0.0.0/0";

    public InstancePaths PathsFor(string internalId) => new($"{Root}/{internalId}");

    public string ClientHost(InstancePaths paths)
    {
        var id = IdOf(paths.Root);
        if (_hosts.TryGetValue(id, out var host))
        {
            return host;
        }

        // An instance's own Service, or for a highly available instance (whose members have theirs) its read-write endpoint.
        var service = Await(
            async ct =>
            {
                try
                {
                    return await _client.CoreV1.ReadNamespacedServiceAsync(NameFor(id), Namespace, cancellationToken: ct);
                }
                catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound && InstanceObjects.Split(id).Member is null)
                {
                    return await _client.CoreV1.ReadNamespacedServiceAsync(NameFor(id) + "-rw", Namespace, cancellationToken: ct);
                }
            },
            CancellationToken.None);
        return _hosts[id] = service.Spec.ClusterIP;
    }

    public Task CreateDirectoriesAsync(InstancePaths paths, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"{paths.Root}: on Kubernetes an instance's place is made with its port and plan (CreateInstanceAsync); the warm pool, rehearsals, repairs, clones and rebuilds do not run on Kubernetes yet (docs/kubernetes.md)");

    public async Task CreateInstanceAsync(InstancePaths paths, InstanceShape shape, CancellationToken cancellationToken)
    {
        var id = IdOf(paths.Root);
        await EnsureNamespaceAsync(cancellationToken);

        // Whatever a failed attempt or an earlier place left (a volume with a half-made data directory) goes first: the
        // place starts empty. Its Service stays, and with it the address clients (bindings' credentials) have: it is
        // never deleted here, so a broker killed at any point finds it again.
        if (await AnyObjectsAsync(id, exceptService: true, cancellationToken))
        {
            await RemoveAsync(id, keepService: true, cancellationToken);
        }

        var name = NameFor(id);
        var claim = await FreeClaimAsync(id, cancellationToken);
        await ApplyAsync(ManagerConfigMap(id, null), cancellationToken);
        var set = await _client.AppsV1.PatchNamespacedStatefulSetAsync(Patch(InstanceObjects.StatefulSet(_options, id, paths.Root, shape, claim)), name, Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);

        // Owned by the StatefulSet, so deleting it removes them too (the volume claims are deleted explicitly: Kubernetes
        // 1.20 has no retention policy for them).
        var owner = new V1OwnerReference { ApiVersion = "apps/v1", Kind = "StatefulSet", Name = name, Uid = set.Metadata.Uid, BlockOwnerDeletion = false, Controller = false };
        await ApplyAsync(ManagerConfigMap(id, owner), cancellationToken);
        var service = await _client.CoreV1.PatchNamespacedServiceAsync(Patch(InstanceObjects.Service(id, shape.Port, owner)), name, Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);
        _hosts[id] = service.Spec.ClusterIP;
        LogCreated(_logger, id, Namespace, service.Spec.ClusterIP, shape.Port);

        await WaitForManagerAsync(id, cancellationToken);
    }

    public async Task WriteFileAsync(string path, string content, CancellationToken cancellationToken)
    {
        var id = IdOf(path);
        var script = new StringBuilder()
            .Append("umask 077; f=").Append(Quote(path)).Append('\n')
            .Append("printf '%s' ").Append(Quote(Convert.ToBase64String(Encoding.UTF8.GetBytes(content)))).Append(" | base64 -d > \"$f.tmp\" || exit 1\n")
            .Append("chown ").Append(Quote(_options.ServiceUser + ":")).Append(" \"$f.tmp\" && sync \"$f.tmp\" && mv \"$f.tmp\" \"$f\"\n")
            .ToString();
        await CheckedAsync(id, script, $"writing {path}", cancellationToken);
    }

    public async Task DeleteFileAsync(string path, CancellationToken cancellationToken) =>
        await CheckedAsync(IdOf(path), "rm -f " + Quote(path), $"removing {path}", cancellationToken);

    public Task CopyFileAsync(string source, string destination, CancellationToken cancellationToken) =>
        throw new NotSupportedException($"copying {source} into a pod is not supported on Kubernetes yet (rebuild and clone need it; docs/kubernetes.md)");

    public async Task CreatePrivateDirectoryAsync(string path, CancellationToken cancellationToken) =>
        await CheckedAsync(IdOf(path), $"mkdir -p {Quote(path)} && chmod 700 {Quote(path)} && chown {Quote(_options.ServiceUser + ":")} {Quote(path)}", $"creating {path}", cancellationToken);

    public async Task<ToolResult> RunToolAsync(InstancePaths paths, string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string>? environment, CancellationToken cancellationToken)
    {
        var id = IdOf(paths.Root);
        await WaitForManagerAsync(id, cancellationToken);
        var script = new StringBuilder().Append("cd ").Append(Quote(paths.Root)).Append(" || exit 111\n");
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            // In the script (sent on the exec's standard input), never on a command line.
            script.Append("export ").Append(key).Append('=').Append(Quote(value)).Append('\n');
        }

        script.Append("exec setpriv --reuid=").Append(Quote(_options.ServiceUser)).Append(" --regid=").Append(Quote(_options.ServiceUser))
            .Append(" --init-groups ").Append(Quote(fileName));
        foreach (var argument in arguments)
        {
            script.Append(' ').Append(Quote(argument));
        }

        script.Append(" 2>&1 </dev/null\n");
        return await ExecAsync(id, script.ToString(), cancellationToken);
    }

    public async Task StartAsync(InstancePaths paths, ProcessLaunch launch, CancellationToken cancellationToken)
    {
        var id = IdOf(paths.Root);
        _running.TryRemove(id, out _);

        // A pod being replaced (deleted, evicted) is waited for: the new one starts its server only when asked, here.
        await WaitForManagerAsync(id, cancellationToken);
        if (await StatusAsync(id, cancellationToken) is ProcessStatus.Running running)
        {
            LogAlreadyRunning(_logger, id, running.Pid);
            return;
        }

        var run = paths.RunDir;
        var command = new StringBuilder("exec env -i");
        foreach (var (key, value) in launch.Environment)
        {
            command.Append(' ').Append(Quote(key + "=" + value));
        }

        command.Append(' ').Append(Quote(launch.FileName));
        foreach (var argument in launch.Arguments)
        {
            command.Append(' ').Append(Quote(argument));
        }

        await WriteFileAsync(Path.Combine(run, "launch"), command.Append('\n').ToString(), cancellationToken);
        var script = $$"""
            r={{Quote(run)}}
            echo {{launch.StopSignal.ToString(CultureInfo.InvariantCulture)}} > "$r/stop.signal"
            rm -f "$r/stop.requested"
            touch "$r/start.requested"
            kill -USR1 1
            i=0
            while [ $i -lt 100 ] && [ -f "$r/start.requested" -o ! -f "$r/server.pid" ]; do sleep 0.05; i=$((i+1)); done
            [ -f "$r/server.pid" ] && [ ! -f "$r/start.requested" ] && cat "$r/server.pid"
            """;
        var result = await ExecAsync(id, script, cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"the server of {paths.Root} did not start (the instance manager of pod {NameFor(id)}-0 took no start request within 5 s): {result.Output.Trim()}");
        }

        LogStarted(_logger, id, result.Output.Trim());
    }

    public async Task StopAsync(InstancePaths paths, int signal, TimeSpan grace, CancellationToken cancellationToken)
    {
        var id = IdOf(paths.Root);
        _running.TryRemove(id, out _);
        if (!await PodRunsAsync(id, cancellationToken))
        {
            return; // no pod, nothing runs
        }

        var tenths = (int)Math.Ceiling(grace.TotalMilliseconds / 100);
        var script = $$"""
            r={{Quote(paths.RunDir)}}
            [ -d "$r" ] && echo {{signal.ToString(CultureInfo.InvariantCulture)}} > "$r/stop.requested"
            alive() { [ -n "$1" ] && [ -d "/proc/$1" ] && ! grep -q '^State:[[:space:]]*[ZX]' "/proc/$1/status" 2>/dev/null; }
            p=$(cat "$r/server.pid" 2>/dev/null)
            if alive "$p"; then
              kill -{{signal.ToString(CultureInfo.InvariantCulture)}} "$p" 2>/dev/null
              i=0; while [ $i -lt {{tenths.ToString(CultureInfo.InvariantCulture)}} ] && alive "$p"; do sleep 0.1; i=$((i+1)); done
              alive "$p" && kill -9 "$p" 2>/dev/null
              i=0; while [ $i -lt 50 ] && [ ! -f "$r/exit.status" ]; do sleep 0.05; i=$((i+1)); done
            fi
            # Whatever else the instance manager is parent of (backends orphaned by a killed server, a tool a broker crash
            # left) is killed, so nothing outlives the stop; its own sleep is left alone.
            for d in /proc/[0-9]*; do
              q=${d#/proc/}
              [ "$q" = 1 ] && continue
              [ "$(sed -n 's/^PPid:[[:space:]]*//p' "$d/status" 2>/dev/null)" = 1 ] || continue
              [ "$(cat "$d/comm" 2>/dev/null)" = sleep ] && continue
              kill -9 "$q" 2>/dev/null
            done
            exit 0
            """;
        await CheckedAsync(id, script, $"stopping the server of {paths.Root}", cancellationToken);
    }

    public Task DeleteAsync(InstancePaths paths, CancellationToken cancellationToken) => RemoveAsync(IdOf(paths.Root), keepService: false, cancellationToken);

    /// <summary>
    /// Deletes every object of the instance, or all but its Service (<paramref name="keepService"/>: the StatefulSet is
    /// then deleted orphaning its dependents, so the garbage collector does not take the Service with it), and waits
    /// until they are gone.
    /// </summary>
    private async Task RemoveAsync(string id, bool keepService, CancellationToken cancellationToken)
    {
        _running.TryRemove(id, out _);
        var selector = SelectorFor(id);
        // By label, not by name: an instance's selector finds its members' StatefulSets too (a highly available instance).
        foreach (var set in (await _client.AppsV1.ListNamespacedStatefulSetAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items)
        {
            await IgnoreNotFound(() => _client.AppsV1.DeleteNamespacedStatefulSetAsync(set.Metadata.Name, Namespace, propagationPolicy: keepService ? "Orphan" : "Background", cancellationToken: cancellationToken));
        }

        // The pod goes at once (its server was stopped, or the instance is being given up), then everything that carries
        // the instance's label; volume claims last, once no pod uses them.
        foreach (var pod in (await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items)
        {
            await IgnoreNotFound(() => _client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, Namespace, gracePeriodSeconds: 0, cancellationToken: cancellationToken));
        }

        foreach (var service in keepService ? [] : (await _client.CoreV1.ListNamespacedServiceAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items)
        {
            try
            {
                await IgnoreNotFound(() => _client.CoreV1.DeleteNamespacedServiceAsync(service.Metadata.Name, Namespace, cancellationToken: cancellationToken));
            }
            catch (System.Text.Json.JsonException)
            {
                // Kubernetes before 1.23 answers a Service's deletion with a Status, not the Service the client expects:
                // the deletion happened (the wait below confirms it).
            }
        }

        await _client.CoreV1.DeleteCollectionNamespacedConfigMapAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        await _client.CoreV1.DeleteCollectionNamespacedSecretAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        await _client.CoreV1.DeleteCollectionNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken);
        if (!keepService)
        {
            _hosts.TryRemove(id, out _);
        }

        // Done when nothing of the instance is left: the next attempt (or a new instance) starts from nothing.
        await WaitUntilAsync(async ct => !await AnyObjectsAsync(id, keepService, ct), cancellationToken);

        LogDeleted(_logger, id, Namespace);
    }

    /// <summary>Every pod has its own network: any port is free in it, and clients reach it through its own Service.</summary>
    public bool IsPortFree(int port) => true;

    public InstancePaths PoolPathsFor(string entryId) =>
        throw new NotSupportedException("the warm pool does not run on Kubernetes");

    public IReadOnlyList<string> ListPoolEntries() => [];

    public Task<bool> AdoptPreparedAsync(InstancePaths prepared, InstancePaths paths, CancellationToken cancellationToken) =>
        throw new NotSupportedException("the warm pool does not run on Kubernetes");

    public bool SupportsWarmPool => false;

    public void Dispose()
    {
        _client.Dispose();
        _namespaceGate.Dispose();
    }

    /// <summary>
    /// The place (pod) a path under <see cref="Root"/> is in: the instance's internal id, or for a path under
    /// <c>&lt;id&gt;/members/&lt;member&gt;/</c> (a member of a highly available instance, which has a pod of its own)
    /// <c>&lt;id&gt;-&lt;member&gt;</c>. Ids and member names are lowercase letters and digits, so the key is unambiguous.
    /// </summary>
    internal static string IdOf(string path)
    {
        var parts = path.Split('/', StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length < 2 || "/" + parts[0] != Root || !Plain(parts[1]))
        {
            throw new ArgumentException($"{path} is not a path of an instance on Kubernetes (under {Root}/<internal id>)", nameof(path));
        }

        if (parts.Length >= 4 && parts[2] == MembersDir)
        {
            return Plain(parts[3]) ? parts[1] + "-" + parts[3] : throw new ArgumentException($"{path} is not a path of a member on Kubernetes (under {Root}/<internal id>/{MembersDir}/<member>)", nameof(path));
        }

        return parts[1];
    }

    /// <summary>The root of a place's files in its pod (where its volume is mounted).</summary>
    internal static string RootFor(string place) =>
        InstanceObjects.Split(place) is (var id, { } member) ? $"{Root}/{id}/{MembersDir}/{member}" : $"{Root}/{place}";

    private static bool Plain(string name) => name.Length > 0 && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c));

    private V1ConfigMap ManagerConfigMap(string id, V1OwnerReference? owner) => new()
    {
        ApiVersion = "v1",
        Kind = "ConfigMap",
        Metadata = InstanceObjects.Metadata(id, NameFor(id), owner),
        Data = new Dictionary<string, string> { ["instance-manager.sh"] = _manager },
    };

    private async Task ApplyAsync(V1ConfigMap map, CancellationToken cancellationToken) =>
        await _client.CoreV1.PatchNamespacedConfigMapAsync(Patch(map), map.Metadata.Name, Namespace, fieldManager: FieldManager, force: true, cancellationToken: cancellationToken);

    private static V1Patch Patch(object body) => new(KubernetesJson.Serialize(body), V1Patch.PatchType.ApplyPatch);

    private async Task EnsureNamespaceAsync(CancellationToken cancellationToken)
    {
        if (_namespaceReady)
        {
            return;
        }

        await _namespaceGate.WaitAsync(cancellationToken);
        try
        {
            try
            {
                await _client.CoreV1.ReadNamespaceAsync(Namespace, cancellationToken: cancellationToken);
            }
            catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
            {
                try
                {
                    await _client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = Namespace, Labels = new Dictionary<string, string> { [ManagedBy] = "steward" } } }, cancellationToken: cancellationToken);
                }
                catch (HttpOperationException conflict) when (conflict.Response.StatusCode == HttpStatusCode.Conflict)
                {
                }
            }

            _namespaceReady = true;
        }
        finally
        {
            _namespaceGate.Release();
        }
    }

    /// <summary>True while any object of the instance exists: StatefulSet, pod, Service (unless <paramref name="exceptService"/>), ConfigMap, Secret or volume claim.</summary>
    private async Task<bool> AnyObjectsAsync(string id, bool exceptService, CancellationToken cancellationToken)
    {
        var selector = SelectorFor(id);
        return (await _client.AppsV1.ListNamespacedStatefulSetAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items.Count > 0
            || (await _client.CoreV1.ListNamespacedPodAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items.Count > 0
            || (!exceptService && (await _client.CoreV1.ListNamespacedServiceAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items.Count > 0)
            || (await _client.CoreV1.ListNamespacedConfigMapAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items.Count > 0
            || (await _client.CoreV1.ListNamespacedSecretAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items.Count > 0
            || (await _client.CoreV1.ListNamespacedPersistentVolumeClaimAsync(Namespace, labelSelector: selector, cancellationToken: cancellationToken)).Items.Count > 0;
    }

    private static async Task IgnoreNotFound(Func<Task> call)
    {
        try
        {
            await call();
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
        }
    }

    /// <summary>A shell word: single-quoted, with every single quote closed, escaped and reopened.</summary>
    internal static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static T Await<T>(Func<CancellationToken, Task<T>> call, CancellationToken cancellationToken) =>
        Task.Run(() => call(cancellationToken), cancellationToken).GetAwaiter().GetResult();

    [LoggerMessage(EventId = 2101, Level = LogLevel.Information, Message = "Created the objects of instance {Id} in namespace {Namespace}: Service {ClusterIp}:{Port}")]
    private static partial void LogCreated(ILogger logger, string id, string @namespace, string clusterIp, int port);

    [LoggerMessage(EventId = 2102, Level = LogLevel.Information, Message = "Started the server of instance {Id} in its pod as pid {Pid}")]
    private static partial void LogStarted(ILogger logger, string id, string pid);

    [LoggerMessage(EventId = 2103, Level = LogLevel.Information, Message = "Server of instance {Id} already runs in its pod as pid {Pid}; adopted")]
    private static partial void LogAlreadyRunning(ILogger logger, string id, int pid);

    [LoggerMessage(EventId = 2104, Level = LogLevel.Information, Message = "Deleted every object of instance {Id} in namespace {Namespace}")]
    private static partial void LogDeleted(ILogger logger, string id, string @namespace);

    [LoggerMessage(EventId = 2106, Level = LogLevel.Information, Message = "Preserved {Claims} volume claim(s) of instance {Id} as {Name}: relabelled, kept for inspection")]
    private static partial void LogPreserved(ILogger logger, string id, int claims, string name);

    [LoggerMessage(EventId = 2105, Level = LogLevel.Warning, Message = "Could not read the state of instance {Id} from its pod: {Reason}")]
    private static partial void LogUnreachable(ILogger logger, string id, string reason);
}
