using System.IO.Pipelines;
using System.Globalization;
using Steward.Backup.Pipeline;

namespace Steward.Backup.Filters.Zstd;

/// <summary>
/// Compresses with the native libzstd into a standard <c>.zst</c> frame (with content checksum) that <c>zstd -d</c>
/// decodes; decodes any zstd stream, including several concatenated frames.
/// </summary>
internal sealed class ZstdFilter : IBackupFilter
{
    public const string FilterName = "zstd";

    private readonly int _level;

    public ZstdFilter(ZstdOptions options)
    {
        options.Validate();
        _level = options.Level;
        Parameters = new Dictionary<string, string> { ["level"] = _level.ToString(CultureInfo.InvariantCulture) };
    }

    public string Name => FilterName;

    public IReadOnlyDictionary<string, string> Parameters { get; }

    /// <summary>Every frame the encoder writes has its content checksum (XXH64), which libzstd's decoder verifies.</summary>
    public bool ChecksumsItsInput => true;

    public static ZstdFilter FromParameters(IReadOnlyDictionary<string, string> parameters) =>
        new(new ZstdOptions { Level = FilterParameters.GetInt(parameters, FilterName, "level", 3) });

    public async ValueTask EncodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        using var encoder = new ZstdEncoder(_level);
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            foreach (var segment in result.Buffer)
            {
                encoder.Compress(segment.Span, output, ZstdNative.EndDirectiveContinue);
            }

            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                encoder.Compress([], output, ZstdNative.EndDirectiveEnd);
                return;
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public async ValueTask DecodeAsync(PipeReader input, PipeWriter output, CancellationToken cancellationToken)
    {
        using var decoder = new ZstdDecoder();
        long consumed = 0;
        while (true)
        {
            var result = await input.ReadAsync(cancellationToken).ConfigureAwait(false);
            foreach (var segment in result.Buffer)
            {
                decoder.Decompress(segment.Span, output);
            }

            consumed += result.Buffer.Length;
            input.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                if (consumed == 0 || !decoder.AtFrameBoundary)
                {
                    throw new BackupIntegrityException("zstd: the compressed stream is truncated (incomplete frame).");
                }

                return;
            }

            await output.FlushAsync(cancellationToken).ConfigureAwait(false);
        }
    }
}
