using Steward.Backup.Filters.Gzip;
using Steward.Backup.Filters.Zstd;
using Steward.Backup.Pipeline;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Filters;

public sealed class CompressionInteropTests
{
    private readonly byte[] _data = TestData.Mixed(3 * 1024 * 1024 + 17);

    [Fact]
    public async Task Zstd_output_decodes_with_the_zstd_cli()
    {
        var compressed = await FilterHarness.EncodeAsync(new ZstdFilter(new ZstdOptions { Level = 5 }), _data);

        var decoded = await Cli.RunOkAsync("zstd", ["-d", "-c"], compressed);

        decoded.ShouldBe(_data);
        (await Cli.RunAsync("zstd", ["-t"], compressed)).ExitCode.ShouldBe(0);
    }

    [Fact]
    public async Task Zstd_cli_output_decodes_with_the_zstd_filter()
    {
        var compressed = await Cli.RunOkAsync("zstd", ["-c", "-9"], _data);

        var decoded = await FilterHarness.DecodeAsync(ZstdFilter.FromParameters(new Dictionary<string, string>()), compressed);

        decoded.ShouldBe(_data);
    }

    [Fact]
    public async Task Zstd_filter_decodes_concatenated_frames()
    {
        var first = await Cli.RunOkAsync("zstd", ["-c"], _data[..1000]);
        var second = await Cli.RunOkAsync("zstd", ["-c"], _data[1000..]);

        var decoded = await FilterHarness.DecodeAsync(new ZstdFilter(new ZstdOptions()), [.. first, .. second]);

        decoded.ShouldBe(_data);
    }

    [Fact]
    public async Task Zstd_filter_rejects_a_truncated_frame_with_integrity_error()
    {
        var compressed = await Cli.RunOkAsync("zstd", ["-c"], _data);

        await Should.ThrowAsync<BackupIntegrityException>(
            () => FilterHarness.DecodeAsync(new ZstdFilter(new ZstdOptions()), compressed[..^100]));
    }

    [Fact]
    public async Task Gzip_output_decodes_with_the_gzip_cli()
    {
        var compressed = await FilterHarness.EncodeAsync(new GzipFilter(new GzipOptions()), _data);

        (await Cli.RunOkAsync("gzip", ["-d", "-c"], compressed)).ShouldBe(_data);
    }

    [Fact]
    public async Task Gzip_cli_output_decodes_with_the_gzip_filter()
    {
        var compressed = await Cli.RunOkAsync("gzip", ["-c", "-6"], _data);

        (await FilterHarness.DecodeAsync(new GzipFilter(new GzipOptions()), compressed)).ShouldBe(_data);
    }
}
