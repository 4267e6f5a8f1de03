using System.IO.Pipelines;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Steward.Backup.Logging;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Unpack;

/// <summary>
/// A restore sink that unpacks a tar stream (a physical backup) into an empty directory inside the broker, instead
/// of feeding a <c>tar -x</c> child through a pipe. That saves two copies of every byte (into the pipe and out of
/// it) and a process; the file data is written straight from the pipeline's buffers with one <c>pwritev</c> per
/// buffer, while the plaintext digest is computed on another core (see <see cref="RestorePipeline"/>).
/// <para>
/// Why a reader of its own rather than <c>System.Formats.Tar</c>: <c>TarReader</c> reads a <see cref="Stream"/> and
/// hands each entry's data out as another stream, so every byte would be copied once more into a buffer before the
/// write; reading the pipe directly, the data goes from the decompressor's output to the page cache in one copy.
/// The archive format itself is unchanged: a backup restores with stock <c>tar -x</c> as before.
/// </para>
/// <para>
/// Files are written to the page cache and not synced one by one: the directory only becomes an instance's data
/// once the restore swaps it in, and PostgreSQL syncs the whole data directory when it starts from a backup (its
/// startup after a backup label always runs crash recovery), before it accepts a connection; the previous data is
/// removed only after that start succeeded. The writeback is started as the files are written (every 8 MiB,
/// <see cref="TarExtractor"/>), so that sync finds little left to write.
/// </para>
/// </summary>
public sealed class TarUnpackSink : IRestoreSink
{
    private const int StepBytes = 256 * 1024;

    private readonly string _directory;
    private readonly Func<string, bool>? _include;
    private readonly ILogger _logger;

    /// <summary>
    /// Creates the sink; <paramref name="directory"/> must exist and be empty. With <paramref name="include"/>, only
    /// the files whose archive path (relative, <c>/</c>-separated) it accepts are written, the others read past, and
    /// the directory may hold files already (none of those accepted: a file is never replaced); directories are
    /// always created.
    /// </summary>
    public TarUnpackSink(string directory, ILogger<TarUnpackSink>? logger = null, Func<string, bool>? include = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(directory);
        _directory = directory;
        _include = include;
        _logger = logger ?? (ILogger)NullLogger.Instance;
    }

    /// <inheritdoc />
    public string Name => "unpack";

    /// <inheritdoc />
    public async ValueTask ReadFromAsync(PipeReader input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var target = UnpackDirectory.Open(_directory, mayHoldFiles: _include is not null);
        using var extractor = new TarExtractor(target, _include);
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);

            // A step at a time: consuming part of the buffer lets the decompressor, paused on a full pipe, go on
            // producing while this step is written, instead of the two stages taking turns.
            var buffer = result.Buffer;
            var whole = buffer.Length <= StepBytes;
            var step = whole ? buffer : buffer.Slice(0, StepBytes);
            SequencePosition consumed;
            try
            {
                consumed = extractor.Consume(step);
            }
            catch (IOException ex)
            {
                throw new BackupException("sink_failed", $"Unpacking into {_directory} failed: {ex.Message.Replace(target.Root, _directory, StringComparison.Ordinal)}", ex);
            }

            input.AdvanceTo(consumed, step.End);
            if (result.IsCompleted && whole)
            {
                break;
            }
        }

        extractor.Finish();
        LogMessages.Unpacked(_logger, _directory, extractor.Files, extractor.FileBytes);
    }
}
