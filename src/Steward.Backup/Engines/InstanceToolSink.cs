using System.IO.Pipelines;
using Steward.Backup.Pipeline;
using Steward.Runtime;

namespace Steward.Backup.Engines;

/// <summary>
/// A restore sink that streams the plaintext into a tool the instance's runtime runs as the service user in the
/// instance's place (<see cref="IInstanceRuntime.RunToolWithInputAsync(InstancePaths, string, IReadOnlyList{string}, Func{Stream, CancellationToken, Task}, CancellationToken)"/>):
/// on Kubernetes, in the instance's pod. A failed input (an upstream stage, the integrity check) reaches the tool
/// as a broken stream, never as a clean end; a non-zero exit fails the stage with the tool's last output.
/// </summary>
public sealed class InstanceToolSink(IInstanceRuntime runtime, InstancePaths paths, string name, string fileName, IReadOnlyList<string> arguments) : IRestoreSink
{
    /// <inheritdoc />
    public string Name => name;

    /// <inheritdoc />
    public async ValueTask ReadFromAsync(PipeReader input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var result = await runtime.RunToolWithInputAsync(paths, fileName, arguments, (stdin, ct) => CopyAsync(input, stdin, ct), cancellationToken).ConfigureAwait(false);
        if (!result.Succeeded)
        {
            var tail = string.Join(" | ", result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(5));
            throw new BackupException("sink_failed", $"{name} in {paths.Root} exited with code {result.ExitCode}: {tail}");
        }
    }

    private static async Task CopyAsync(PipeReader input, Stream stdin, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            foreach (var segment in result.Buffer)
            {
                await stdin.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                return;
            }
        }
    }
}
