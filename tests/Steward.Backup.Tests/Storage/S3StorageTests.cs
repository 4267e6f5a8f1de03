using Steward.Backup.Pipeline;
using Steward.Backup.Storage.S3;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Storage;

[Collection(S3Collection.Name)]
public sealed class S3StorageTests(S3rverFixture s3rver) : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Theory]
    [InlineData("zstd+age")]
    [InlineData("gzip")]
    [InlineData("none")]
    public async Task Round_trip_through_s3_restores_identical_bytes(string chain)
    {
        using var storage = new S3Storage(s3rver.Options());
        var keys = Keys.Create(_directory);
        var data = TestData.Mixed(12 * 1024 * 1024 + 99);
        var key = $"roundtrip/{chain.Replace('+', '-')}";

        var backup = await Workflows.Backup(new BytesSource(data), storage, chain, keys.Identity.Recipient)
            .RunAsync(Workflows.Request(key: key));
        var (restore, restored) = await Workflows.RestoreAsync(storage, key, keys.Identity);

        backup.Failure.ShouldBeNull();
        restore.Failure.ShouldBeNull();
        TestData.Sha256(restored).ShouldBe(TestData.Sha256(data));
        var listed = await Workflows.ListAsync(storage, "roundtrip/");
        listed.Select(o => o.Key).ShouldContain(key);
        listed.Single(o => o.Key == key).Size.ShouldBe(backup.StoredBytes);
        (await storage.ExistsAsync(key + ".manifest.json", CancellationToken.None)).ShouldBeTrue();
    }

    [Fact]
    public async Task Uncompleted_writer_leaves_nothing_visible()
    {
        using var storage = new S3Storage(s3rver.Options());

        await using (var writer = await storage.OpenWriteAsync("aborted/object", CancellationToken.None))
        {
            await writer.WriteAsync(TestData.Random(11 * 1024 * 1024), CancellationToken.None);
        }

        (await storage.ExistsAsync("aborted/object", CancellationToken.None)).ShouldBeFalse();
        (await Workflows.ListAsync(storage, "aborted/")).ShouldBeEmpty();
    }

    [Fact]
    public async Task Delete_removes_an_object()
    {
        using var storage = new S3Storage(s3rver.Options());
        await using (var writer = await storage.OpenWriteAsync("delete/me", CancellationToken.None))
        {
            await writer.WriteAsync("x"u8.ToArray(), CancellationToken.None);
            await writer.CompleteAsync(CancellationToken.None);
        }

        await storage.DeleteAsync("delete/me", CancellationToken.None);

        (await storage.ExistsAsync("delete/me", CancellationToken.None)).ShouldBeFalse();
    }

    [Fact]
    public async Task Server_killed_mid_upload_fails_the_storage_stage_and_no_object_is_listed()
    {
        var storage = new S3Storage(s3rver.Options(maxErrorRetry: 0));
        var killed = 0;
        var progress = new KillOnProgress(report =>
        {
            if (report.StoredBytes > 7 * 1024 * 1024 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                s3rver.Kill();
            }
        });

        PipelineResult result;
        try
        {
            result = await Workflows.Backup(new BytesSource(TestData.Random(40 * 1024 * 1024)), storage, "none")
                .RunAsync(Workflows.Request(key: "killed/backup"), progress);
        }
        finally
        {
            await s3rver.RestartAsync();
        }

        result.Failure.ShouldNotBeNull();
        result.Failure.Stage.ShouldBe("s3");
        result.Failure.Kind.ShouldBe(StageKind.Storage);
        using var fresh = new S3Storage(s3rver.Options());
        (await Workflows.ListAsync(fresh, "killed/")).ShouldBeEmpty();
        storage.Dispose();
    }

    [Theory]
    [InlineData("../escape")]
    [InlineData("/absolute")]
    [InlineData("a/../../b")]
    public async Task Keys_with_path_tricks_are_rejected(string key)
    {
        using var storage = new S3Storage(s3rver.Options());

        await Should.ThrowAsync<ArgumentException>(async () => await storage.OpenReadAsync(key, CancellationToken.None));
    }

    [Fact]
    public void Options_never_print_the_secret_key()
    {
        var options = s3rver.Options() with { SecretKey = "very-secret-value" };

        options.ToString().ShouldNotContain("very-secret-value");
    }

    private sealed class KillOnProgress(Action<PipelineProgress> onReport) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => onReport(value);
    }

    public void Dispose() => _directory.Dispose();
}
