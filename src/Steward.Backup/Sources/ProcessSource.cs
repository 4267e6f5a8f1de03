using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Sources;

/// <summary>
/// A source that runs a command and streams its stdout (for example <c>pg_dump -Fc</c>,
/// <c>pg_basebackup -Ft -D -</c>, <c>redis-cli --rdb -</c>). A non-zero exit or a kill fails the stage with the exit
/// status and the last stderr lines. Engine-specific sources wrap it and may add <see cref="IManifestContributor"/>.
/// </summary>
public sealed class ProcessSource : IBackupSource
{
    private const int ReadSize = 256 * 1024;
    private const int FlushBytes = 256 * 1024;
    private readonly ProcessCommand _command;
    private readonly ILogger _logger;

    /// <summary>Creates the source.</summary>
    public ProcessSource(ProcessCommand command, ILogger<ProcessSource>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(command);
        _command = command;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    public string Name => _command.StageName;

    /// <inheritdoc />
    public async ValueTask WriteToAsync(PipeWriter output, CancellationToken cancellationToken)
    {
        var process = RunningProcess.Start(_command, forSink: false, _logger);
        await using (process.ConfigureAwait(false))
        {
            // Killing the process is the reliable way to interrupt a blocked read of its stdout.
            await using var registration = cancellationToken.Register(process.Kill).ConfigureAwait(false);
            var stdout = process.Process.StandardOutput.BaseStream;
            PipeCapacity.TryEnlarge(stdout);
            while (true)
            {
                var memory = output.GetMemory(ReadSize);
                var read = await stdout.ReadAsync(memory, cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    break;
                }

                output.Advance(read);

                // Handing data on in batches of at least 256 KiB costs fewer wake-ups of the next stage.
                if (output.CanGetUnflushedBytes && output.UnflushedBytes < FlushBytes)
                {
                    continue;
                }

                var flush = await output.FlushAsync(cancellationToken).ConfigureAwait(false);
                if (flush.IsCompleted)
                {
                    throw new BackupException("source_failed", $"Stage '{Name}': the next stage stopped reading.");
                }
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);

            await process.WaitForSuccessAsync("source_failed", cancellationToken).ConfigureAwait(false);
        }
    }
}
