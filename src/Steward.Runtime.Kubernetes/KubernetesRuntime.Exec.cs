using System.Globalization;
using System.Net;
using System.Net.WebSockets;
using System.Text;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Steward.Runtime.Kubernetes;

/// <summary>
/// Commands in an instance's pod. The shell script travels on the exec's standard input (read with <c>head -c</c>, as
/// the exec protocol of Kubernetes 1.20 cannot close standard input), so file contents, passwords and environment
/// values never appear in the exec request's URL, the apiserver's logs or a process's command line.
/// </summary>
public sealed partial class KubernetesRuntime
{
    private static readonly string[] Shell = ["/bin/sh", "-c", "eval \"$(head -c \"$1\")\"", "sh"];

    private static string PodName(string id) => NameFor(id) + "-0";

    /// <summary>Runs <paramref name="script"/> in the instance's pod; its standard output and error, and its exit code.</summary>
    private Task<ToolResult> ExecAsync(string id, string script, CancellationToken cancellationToken) =>
        ExecAsync(id, script, null, cancellationToken);

    /// <summary>
    /// As <see cref="ExecAsync(string, string, CancellationToken)"/>; after the script, <paramref name="feed"/> writes the
    /// rest of the exec's standard input while the output is read. When the script ends first (it stopped reading),
    /// <paramref name="feed"/> is cancelled: the script's exit code and output say why.
    /// </summary>
    private async Task<ToolResult> ExecAsync(string id, string script, Func<Stream, CancellationToken, Task>? feed, CancellationToken cancellationToken)
    {
        var payload = Encoding.UTF8.GetBytes(script);
        var output = new MemoryStream();
        var code = await _client.NamespacedPodExecAsync(
            PodName(id),
            Namespace,
            Container,
            [.. Shell, payload.Length.ToString(CultureInfo.InvariantCulture)],
            false,
            async (stdin, stdout, stderr) =>
            {
                await stdin.WriteAsync(payload, cancellationToken);
                await stdin.FlushAsync(cancellationToken);
                var errors = new MemoryStream();
                var reading = Task.WhenAll(stdout.CopyToAsync(output, cancellationToken), stderr.CopyToAsync(errors, cancellationToken));
                if (feed is not null)
                {
                    using var fed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
                    var feeding = feed(stdin, fed.Token);
                    if (await Task.WhenAny(feeding, reading) == reading)
                    {
                        await fed.CancelAsync();
                    }

                    try
                    {
                        await feeding;
                    }
                    catch (Exception) when (reading.IsCompleted && !cancellationToken.IsCancellationRequested)
                    {
                        // The script ended before its input did: its exit code and output are the answer.
                    }
                }

                await reading;
                errors.Position = 0;
                await errors.CopyToAsync(output, cancellationToken);
            },
            cancellationToken);
        return new ToolResult(code, Encoding.UTF8.GetString(output.ToArray()));
    }

    /// <summary>As <see cref="ExecAsync"/>, throwing with <paramref name="what"/> and the output when the script fails.</summary>
    private async Task<string> CheckedAsync(string id, string script, string what, CancellationToken cancellationToken)
    {
        var result = await ExecAsync(id, script, cancellationToken);
        if (!result.Succeeded)
        {
            throw new InvalidOperationException($"{what} in pod {PodName(id)} failed with exit code {result.ExitCode}: {result.Output.Trim()}");
        }

        return result.Output;
    }

    /// <summary>
    /// Waits until the instance's pod runs and its instance manager has prepared the files' directories. A pod being
    /// replaced (deleted, evicted) is followed through a watch until its successor runs.
    /// </summary>
    private async Task WaitForManagerAsync(string id, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(_options.PodStartTimeout);
        string? last = null;
        try
        {
            while (true)
            {
                var pods = await _client.CoreV1.ListNamespacedPodAsync(Namespace, fieldSelector: $"metadata.name={PodName(id)}", cancellationToken: deadline.Token);
                if (pods.Items.FirstOrDefault() is { } pod && Started(pod, out last))
                {
                    break;
                }

                last ??= pods.Items.Count == 0 ? "no pod yet" : null;

                // Watch from the list's version: every change of the pod after it, until it runs or the watch ends.
                await foreach (var (_, changed) in _client.CoreV1.WatchListNamespacedPodAsync(
                    Namespace, fieldSelector: $"metadata.name={PodName(id)}", resourceVersion: pods.Metadata.ResourceVersion, timeoutSeconds: 30, cancellationToken: deadline.Token))
                {
                    if (Started(changed, out last))
                    {
                        goto started;
                    }
                }
            }

        started:
            var ready = await ExecAsync(id, $"i=0; while [ ! -f /tmp/steward-manager.ready ] && [ $i -lt 200 ]; do sleep 0.05; i=$((i+1)); done; [ -f /tmp/steward-manager.ready ] && [ -d {Quote(new InstancePaths(RootFor(id)).RunDir)} ]", deadline.Token);
            if (!ready.Succeeded)
            {
                throw new InvalidOperationException($"the instance manager of pod {PodName(id)} did not prepare {RootFor(id)} within 10 s: {ready.Output.Trim()}");
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"pod {PodName(id)} in namespace {Namespace} did not start within {_options.PodStartTimeout.TotalSeconds:0} s: {last ?? "unknown state"}");
        }
    }

    /// <summary>True when the pod's server container runs; otherwise <paramref name="state"/> says what it waits for.</summary>
    private static bool Started(V1Pod pod, out string? state)
    {
        var container = pod.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == Container);
        if (pod.Metadata.DeletionTimestamp is null && pod.Status?.Phase == "Running" && container?.State?.Running is not null)
        {
            state = null;
            return true;
        }

        var waiting = container?.State?.Waiting;
        var condition = pod.Status?.Conditions?.FirstOrDefault(c => c.Status != "True" && c.Message is not null);
        state = pod.Metadata.DeletionTimestamp is not null ? "the pod is being deleted"
            : waiting is not null ? $"container waiting: {waiting.Reason} {waiting.Message}".Trim()
            : condition is not null ? $"{condition.Type}: {condition.Reason} {condition.Message}".Trim()
            : $"pod phase {pod.Status?.Phase ?? "unknown"}";
        return false;
    }

    /// <summary>True when the instance's pod exists and its server container runs (so an exec can reach it).</summary>
    private async Task<bool> PodRunsAsync(string id, CancellationToken cancellationToken) =>
        await PodAsync(id, cancellationToken) is { } pod && Started(pod, out _);

    /// <summary>The instance's pod; null when there is none.</summary>
    private async Task<V1Pod?> PodAsync(string id, CancellationToken cancellationToken)
    {
        try
        {
            return await _client.CoreV1.ReadNamespacedPodAsync(PodName(id), Namespace, cancellationToken: cancellationToken);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>True for the failures that mean the pod cannot be reached now (gone, being replaced), not a broken script.</summary>
    private static bool Unreachable(Exception ex) =>
        ex is HttpOperationException or WebSocketException or KubernetesException or HttpRequestException or IOException or TimeoutException
        || ex is InvalidOperationException { InnerException: not null };
}
