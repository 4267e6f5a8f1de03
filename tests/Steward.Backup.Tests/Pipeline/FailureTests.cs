using Steward.Backup.Filters.Zstd;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Pipeline;

public sealed class FailureTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FileSystemStorage _storage;

    public FailureTests() =>
        _storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });

    private string StoreDirectory => _directory.File("store");

    [Fact]
    public async Task Source_exiting_non_zero_fails_the_source_stage_with_exit_code_and_stderr()
    {
        var source = new ProcessSource(new ProcessCommand
        {
            FileName = "sh",
            Arguments = ["-c", "head -c 3000000 /dev/urandom; echo 'pg_dump: error: connection lost' >&2; exit 3"],
            Environment = new Dictionary<string, string?> { ["PGPASSWORD"] = "hunter2-secret" },
            Name = "pg_dump",
        });

        var result = await Workflows.Backup(source, _storage, "zstd").RunAsync(Workflows.Request());

        result.Failure.ShouldNotBeNull();
        result.Failure.Stage.ShouldBe("pg_dump");
        result.Failure.Kind.ShouldBe(StageKind.Source);
        result.Failure.Message.ShouldContain("exited with code 3");
        result.Failure.Message.ShouldContain("connection lost");
        result.Failure.Message.ShouldNotContain("hunter2");
        await ShouldHaveNoObjectsAsync();
    }

    [Fact]
    public async Task Source_killed_mid_stream_fails_the_source_stage_and_leaves_no_object()
    {
        var pidFile = _directory.File("source.pid");
        var source = new ProcessSource(new ProcessCommand
        {
            FileName = "sh",
            Arguments = ["-c", $"echo $$ > '{pidFile}'; exec cat /dev/zero"],
            Name = "endless",
        });
        var killed = 0;
        var progress = new Progress(report =>
        {
            if (report.PlaintextBytes > 8 * 1024 * 1024 && Interlocked.Exchange(ref killed, 1) == 0)
            {
                System.Diagnostics.Process.GetProcessById(int.Parse(File.ReadAllText(pidFile).Trim())).Kill();
            }
        });

        var result = await Workflows.Backup(source, _storage, "zstd").RunAsync(Workflows.Request(), progress);

        result.Failure.ShouldNotBeNull();
        result.Failure.Stage.ShouldBe("endless");
        result.Failure.Kind.ShouldBe(StageKind.Source);
        result.Failure.Message.ShouldContain("killed by signal 9");
        await ShouldHaveNoObjectsAsync();
    }

    [Fact]
    public async Task Source_that_produces_no_data_is_a_failure_not_an_empty_backup()
    {
        var source = new ProcessSource(new ProcessCommand { FileName = "true" });

        var result = await Workflows.Backup(source, _storage, "zstd").RunAsync(Workflows.Request());

        result.Failure.ShouldNotBeNull();
        result.Failure.Kind.ShouldBe(StageKind.Source);
        result.Failure.Code.ShouldBe("source_empty");
        result.Failure.Message.ShouldContain("produced no data");
        await ShouldHaveNoObjectsAsync();
    }

    [Fact]
    public async Task Source_command_that_does_not_exist_fails_the_source_stage()
    {
        var source = new ProcessSource(new ProcessCommand { FileName = "no-such-backup-tool" });

        var result = await Workflows.Backup(source, _storage, "none").RunAsync(Workflows.Request());

        result.Failure!.Kind.ShouldBe(StageKind.Source);
        result.Failure.Message.ShouldContain("no-such-backup-tool");
    }

    [Fact]
    public async Task Storage_failing_mid_write_fails_the_storage_stage_and_removes_the_partial_file()
    {
        var storage = new FailingStorage(_storage, failAfterBytes: 3 * 1024 * 1024);

        var result = await Workflows.Backup(new BytesSource(TestData.Random(10 * 1024 * 1024)), storage, "none")
            .RunAsync(Workflows.Request());

        result.Failure.ShouldNotBeNull();
        result.Failure.Stage.ShouldBe("filesystem");
        result.Failure.Kind.ShouldBe(StageKind.Storage);
        result.Failure.Message.ShouldContain("No space left on device");
        await ShouldHaveNoObjectsAsync();
    }

    [Fact]
    public async Task Filter_throwing_fails_the_filter_stage_and_stops_the_source_process()
    {
        var source = new ProcessSource(new ProcessCommand { FileName = "cat", Arguments = ["/dev/zero"], Name = "endless" });
        var pipeline = new BackupPipelineBuilder()
            .UseSource(source)
            .AddFilter(new ThrowingFilter(failAfterBytes: 1_000_000))
            .AddZstd()
            .UseStorage(_storage)
            .Build();

        var result = await pipeline.RunAsync(Workflows.Request());

        result.Failure!.Stage.ShouldBe("exploding");
        result.Failure.Kind.ShouldBe(StageKind.Filter);
        result.Failure.Message.ShouldContain("filter bug");
        await ShouldHaveNoObjectsAsync();
    }

    [Fact]
    public async Task Cancellation_mid_stream_reports_cancelled_and_leaves_no_object()
    {
        using var cancellation = new CancellationTokenSource();
        var source = new ProcessSource(new ProcessCommand { FileName = "cat", Arguments = ["/dev/zero"], Name = "endless" });
        var progress = new Progress(report =>
        {
            if (report.PlaintextBytes > 8 * 1024 * 1024)
            {
                cancellation.Cancel();
            }
        });

        var result = await Workflows.Backup(source, _storage, "zstd").RunAsync(Workflows.Request(), progress, cancellation.Token);

        result.Failure.ShouldNotBeNull();
        result.Failure.Kind.ShouldBe(StageKind.Cancelled);
        await ShouldHaveNoObjectsAsync();
    }

    private async Task ShouldHaveNoObjectsAsync()
    {
        (await Workflows.ListAsync(_storage)).ShouldBeEmpty();
        Directory.EnumerateFiles(StoreDirectory, "*", SearchOption.AllDirectories).ShouldBeEmpty("no temporary file may be left");
    }

    /// <summary>Runs the callback synchronously on the reporting thread, so a test can react mid-stream.</summary>
    private sealed class Progress(Action<PipelineProgress> onReport) : IProgress<PipelineProgress>
    {
        public void Report(PipelineProgress value) => onReport(value);
    }

    public void Dispose() => _directory.Dispose();
}
