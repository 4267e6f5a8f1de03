using System.Text;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Pipeline;

public sealed class FileSystemRoundTripTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly Keys _keys;
    private readonly FileSystemStorage _storage;

    public FileSystemRoundTripTests()
    {
        _keys = Keys.Create(_directory);
        _storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });
    }

    [Theory]
    [InlineData("zstd+age")]
    [InlineData("gzip")]
    [InlineData("none")]
    [InlineData("gzip+age")]
    public async Task Round_trip_through_filter_chain_restores_identical_bytes(string chain)
    {
        var data = TestData.Mixed(6 * 1024 * 1024 + 123);

        var backup = await Workflows.Backup(new BytesSource(data), _storage, chain, _keys.Identity.Recipient)
            .RunAsync(Workflows.Request());
        var (restore, restored) = await Workflows.RestoreAsync(_storage, backup.Key, _keys.Identity);

        backup.Failure.ShouldBeNull();
        restore.Failure.ShouldBeNull();
        TestData.Sha256(restored).ShouldBe(TestData.Sha256(data));
        backup.PlaintextDigest.ShouldBe(TestData.Blake3(data));
        backup.PlaintextBytes.ShouldBe(data.Length);
        backup.StoredSha256.ShouldBe(TestData.Sha256(await File.ReadAllBytesAsync(Path.Combine(_directory.File("store"), backup.Key))));
    }

    [Fact]
    public async Task Manifest_records_chain_digests_and_times_but_no_key_material()
    {
        var data = TestData.Random(300_000);

        var backup = await Workflows.Backup(new BytesSource(data, "pg_dump"), _storage, "zstd+age", _keys.Identity.Recipient)
            .RunAsync(Workflows.Request("b7"));

        var json = await File.ReadAllTextAsync(Path.Combine(_directory.File("store"), "instance-1", "b7.manifest.json"));
        json.ShouldContain("\"backupId\": \"b7\"");
        json.ShouldContain("\"source\": \"pg_dump\"");
        json.ShouldContain(_keys.Identity.Recipient.ToString());
        json.ShouldContain("\"stopLsn\": \"0/3000100\"");
        json.ShouldContain("\"timeline\": \"1\"");
        json.ShouldContain(backup.StoredSha256!);
        json.ShouldContain("2025-01-02T03:04:05");
        json.ShouldNotContain("AGE-SECRET-KEY", Case.Insensitive);
        backup.Manifest!.Filters.Select(f => f.Name).ShouldBe(["zstd", "age"]);
    }

    [Fact]
    public async Task Restore_uses_the_chain_from_the_manifest_not_current_configuration()
    {
        var data = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("select 1;\n", 50_000)));
        var backup = await Workflows.Backup(new BytesSource(data), _storage, "gzip").RunAsync(Workflows.Request());

        // The restore is configured with nothing but storage and sink; the gzip inverse comes from the manifest.
        var (restore, restored) = await Workflows.RestoreAsync(_storage, backup.Key);

        restore.Succeeded.ShouldBeTrue(restore.Failure?.Message);
        restored.ShouldBe(data);
    }

    [Fact]
    public async Task Progress_reports_bytes_so_far()
    {
        var reports = new List<Steward.Backup.Pipeline.PipelineProgress>();
        var progress = new SynchronousProgress(reports.Add);

        var result = await Workflows.Backup(new BytesSource(TestData.Random(9 * 1024 * 1024)), _storage, "none")
            .RunAsync(Workflows.Request(), progress);

        result.Succeeded.ShouldBeTrue();
        reports.Count.ShouldBeGreaterThan(1);
        reports[^1].StoredBytes.ShouldBe(9 * 1024 * 1024);
        reports.Select(r => r.StoredBytes).ShouldBeInOrder();
    }

    private sealed class SynchronousProgress(Action<Steward.Backup.Pipeline.PipelineProgress> report)
        : IProgress<Steward.Backup.Pipeline.PipelineProgress>
    {
        public void Report(Steward.Backup.Pipeline.PipelineProgress value)
        {
            lock (this)
            {
                report(value);
            }
        }
    }

    public void Dispose() => _directory.Dispose();
}
