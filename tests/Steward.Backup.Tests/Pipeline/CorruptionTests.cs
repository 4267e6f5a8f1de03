using Steward.Backup.Pipeline;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Pipeline;

public sealed class CorruptionTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly Keys _keys;
    private readonly FileSystemStorage _storage;

    public CorruptionTests()
    {
        _keys = Keys.Create(_directory);
        _storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });
    }

    [Theory]
    [InlineData("zstd+age")]
    [InlineData("gzip")]
    [InlineData("zstd")]
    [InlineData("none")]
    public async Task Restore_of_a_flipped_byte_fails_with_integrity_error(string chain)
    {
        var key = await BackupAsync(chain);
        var path = Path.Combine(_directory.File("store"), key);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 2] ^= 0x40;
        await File.WriteAllBytesAsync(path, bytes);

        var (result, _) = await Workflows.RestoreAsync(_storage, key, _keys.Identity);

        result.Failure.ShouldNotBeNull();
        result.Failure.Kind.ShouldBe(StageKind.Integrity, result.Failure.Message);
        result.Failure.Code.ShouldBe("integrity");
    }

    [Theory]
    [InlineData("zstd+age")]
    [InlineData("gzip")]
    [InlineData("none")]
    public async Task Restore_of_a_truncated_object_fails_with_integrity_error(string chain)
    {
        var key = await BackupAsync(chain);
        var path = Path.Combine(_directory.File("store"), key);
        await using (var file = new FileStream(path, FileMode.Open))
        {
            file.SetLength(file.Length - 1000);
        }

        var (result, _) = await Workflows.RestoreAsync(_storage, key, _keys.Identity);

        result.Failure.ShouldNotBeNull();
        result.Failure.Kind.ShouldBe(StageKind.Integrity);
        result.Failure.Message.ShouldContain("truncated");
    }

    [Fact]
    public async Task Restore_into_a_process_sink_kills_it_instead_of_ending_its_input_when_data_is_corrupt()
    {
        var key = await BackupAsync("none");
        var path = Path.Combine(_directory.File("store"), key);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[^10] ^= 1;
        await File.WriteAllBytesAsync(path, bytes);
        var marker = _directory.File("committed");

        var result = await new RestorePipelineBuilder()
            .UseStorage(_storage)
            .UseSink(new Steward.Backup.Sources.ProcessSink(new Steward.Backup.Sources.ProcessCommand
            {
                FileName = "sh",
                Arguments = ["-c", $"cat > /dev/null && touch '{marker}'"],
                Name = "committer",
            }))
            .Build()
            .RunAsync(new RestoreRequest(key));

        result.Failure!.Kind.ShouldBe(StageKind.Integrity);
        File.Exists(marker).ShouldBeFalse();
    }

    [Fact]
    public async Task Restore_with_the_wrong_identity_names_the_age_stage()
    {
        var key = await BackupAsync("zstd+age");

        var (result, _) = await Workflows.RestoreAsync(_storage, key, Steward.Backup.Filters.Age.AgeIdentity.Generate());

        result.Failure!.Stage.ShouldBe("age");
        result.Failure.Code.ShouldBe("age_no_identity");
    }

    [Fact]
    public async Task Restore_without_a_manifest_fails_naming_the_manifest()
    {
        var key = await BackupAsync("none");
        await _storage.DeleteAsync(key + ".manifest.json", CancellationToken.None);

        var (result, _) = await Workflows.RestoreAsync(_storage, key);

        result.Failure!.Stage.ShouldBe("manifest");
        result.Failure.Code.ShouldBe("manifest_missing");
    }

    private async Task<string> BackupAsync(string chain)
    {
        var result = await Workflows.Backup(new BytesSource(TestData.Mixed(2 * 1024 * 1024)), _storage, chain, _keys.Identity.Recipient)
            .RunAsync(Workflows.Request());
        result.Succeeded.ShouldBeTrue(result.Failure?.Message);
        return result.Key;
    }

    public void Dispose() => _directory.Dispose();
}
