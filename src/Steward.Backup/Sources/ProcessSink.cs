using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Sources;

/// <summary>
/// A restore sink that streams the plaintext into a command's stdin (for example <c>pg_restore</c> or
/// <c>tar -x -C dir</c>). If the input fails (an upstream stage or the integrity check) the process is killed instead
/// of seeing a clean end of input. A non-zero exit fails the stage with the exit status and the last output lines.
/// </summary>
public sealed class ProcessSink : IRestoreSink
{
    private readonly ProcessCommand _command;
    private readonly ILogger _logger;

    /// <summary>Creates the sink.</summary>
    public ProcessSink(ProcessCommand command, ILogger<ProcessSink>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        _command = command;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    public string Name => _command.StageName;

    /// <inheritdoc />
    public async ValueTask ReadFromAsync(PipeReader input, CancellationToken cancellationToken)
    {
        var process = RunningProcess.Start(_command, forSink: true, _logger);
        await using (process.ConfigureAwait(false))
        {
            await using var registration = cancellationToken.Register(process.Kill).ConfigureAwait(false);
            bool complete;
            try
            {
                complete = await CopyAsync(input, process.Process.StandardInput.BaseStream, cancellationToken).ConfigureAwait(false);
            }
            catch
            {
                // Kill before stdin is closed: the process must never see a clean end of a failed input.
                process.Kill();
                throw;
            }

            await process.WaitForSuccessAsync("sink_failed", cancellationToken).ConfigureAwait(false);
            if (!complete)
            {
                throw process.Failure("sink_failed", "exited before reading all of its input");
            }
        }
    }

    /// <summary>Copies the input to stdin and closes it; returns false if the process closed its stdin early.</summary>
    private static async ValueTask<bool> CopyAsync(PipeReader input, Stream stdin, CancellationToken cancellationToken)
    {
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                foreach (var segment in result.Buffer)
                {
                    await stdin.WriteAsync(segment, cancellationToken).ConfigureAwait(false);
                }
            }
            catch (IOException)
            {
                return false;
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                break;
            }
        }

        try
        {
            await stdin.DisposeAsync().ConfigureAwait(false);
            return true;
        }
        catch (IOException)
        {
            return false;
        }
    }
}
