using System.IO.Compression;
using System.IO.Pipelines;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Gzip;

/// <summary>gzip (RFC 1952) through <see cref="GZipStream"/>; output is readable by <c>gzip -d</c>.</summary>
internal sealed class GzipFilter : IBackupFilter
{
    public const string FilterName = "gzip";

    private const int CopyBufferSize = 64 * 1024;
    private readonly CompressionLevel _level;

    public GzipFilter(GzipOptions options)
    {
        _level = options.Level;
        Parameters = new Dictionary<string, string> { ["level"] = _level.ToString() };
    }

    public string Name => FilterName;

    public IReadOnlyDictionary<string, string> Parameters { get; }

    public static GzipFilter FromParameters(IReadOnlyDictionary<string, string> parameters)
    {
        var level = CompressionLevel.Fastest;
        if (parameters.TryGetValue("level", out var text) && !Enum.TryParse(text, ignoreCase: true, out level))
        {
            throw new BackupException("filter_parameters_invalid", "Filter 'gzip' has an invalid 'level' parameter.");
        }

        return new GzipFilter(new GzipOptions { Level = level });
    }

    public async ValueTask EncodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        var gzip = new GZipStream(output.AsStream(leaveOpen: true), _level, leaveOpen: false);
        await using (gzip.ConfigureAwait(false))
        {
            await input.CopyToAsync(gzip, cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DecodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        var gzip = new GZipStream(input.AsStream(leaveOpen: true), CompressionMode.Decompress, leaveOpen: false);
        await using (gzip.ConfigureAwait(false))
        {
            try
            {
                await gzip.CopyToAsync(output.AsStream(leaveOpen: true), CopyBufferSize, cancellationToken).ConfigureAwait(false);
            }
            catch (InvalidDataException ex)
            {
                throw new BackupIntegrityException($"gzip: the compressed stream is corrupt ({ex.Message}).", ex);
            }
        }
    }
}
