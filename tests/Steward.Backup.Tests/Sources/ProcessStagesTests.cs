using System.IO.Pipelines;
using System.Text;
using Steward.Backup.Filters.Age;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Sources;

public sealed class ProcessStagesTests : IDisposable
{
    private readonly TempDirectory _directory = new();

    [Fact]
    public async Task Tar_directory_backed_up_by_process_source_restores_through_process_sink()
    {
        var keys = Keys.Create(_directory);
        var original = Directory.CreateDirectory(_directory.File("original")).FullName;
        await File.WriteAllBytesAsync(Path.Combine(original, "base.dat"), TestData.Random(2_000_000));
        await File.WriteAllTextAsync(Path.Combine(original, "PG_VERSION"), "17\n");
        var target = Directory.CreateDirectory(_directory.File("target")).FullName;
        var storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });

        var backup = await Workflows.Backup(
                new ProcessSource(new ProcessCommand { FileName = "tar", Arguments = ["-c", "-C", original, "."] }),
                storage, "zstd+age", keys.Identity.Recipient)
            .RunAsync(Workflows.Request());
        var restore = await new RestorePipelineBuilder()
            .UseStorage(storage)
            .UseProcessSink(new ProcessCommand { FileName = "tar", Arguments = ["-x", "-C", target] })
            .UseAgeIdentities(keys.Identity)
            .Build()
            .RunAsync(new RestoreRequest(backup.Key));

        backup.Succeeded.ShouldBeTrue(backup.Failure?.Message);
        restore.Succeeded.ShouldBeTrue(restore.Failure?.Message);
        (await File.ReadAllBytesAsync(Path.Combine(target, "base.dat"))).ShouldBe(await File.ReadAllBytesAsync(Path.Combine(original, "base.dat")));
        (await File.ReadAllTextAsync(Path.Combine(target, "PG_VERSION"))).ShouldBe("17\n");
    }

    [Fact]
    public async Task Backup_restores_with_stock_age_and_zstd_tools()
    {
        var keys = Keys.Create(_directory);
        var data = TestData.Mixed(5 * 1024 * 1024);
        var storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });

        var backup = await Workflows.Backup(new BytesSource(data), storage, "zstd+age", keys.Identity.Recipient)
            .RunAsync(Workflows.Request());
        var stored = await File.ReadAllBytesAsync(Path.Combine(_directory.File("store"), backup.Key));
        var decrypted = await Cli.RunOkAsync("age", ["-d", "-i", keys.IdentityFile], stored);
        var restored = await Cli.RunOkAsync("zstd", ["-d", "-c"], decrypted);

        restored.ShouldBe(data);
    }

    [Fact]
    public async Task Sink_exiting_non_zero_fails_the_sink_stage_with_its_output()
    {
        var storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });
        var backup = await Workflows.Backup(new BytesSource(TestData.Random(500_000)), storage, "gzip").RunAsync(Workflows.Request());

        var restore = await new RestorePipelineBuilder()
            .UseStorage(storage)
            .UseProcessSink(new ProcessCommand
            {
                FileName = "sh",
                Arguments = ["-c", "head -c 1000 > /dev/null; echo 'pg_restore: error: input file is not a dump' >&2; exit 1"],
                Name = "pg_restore",
            })
            .Build()
            .RunAsync(new RestoreRequest(backup.Key));

        restore.Failure!.Stage.ShouldBe("pg_restore");
        restore.Failure.Kind.ShouldBe(StageKind.Sink);
        restore.Failure.Message.ShouldContain("exited with code 1");
        restore.Failure.Message.ShouldContain("not a dump");
    }

    [Fact]
    public async Task Secrets_reach_the_tool_through_a_private_file_and_stdin_and_never_through_its_environment()
    {
        const string secret = "pa:ss\\word-7f3e";
        var script = """
            read -r line
            echo "stdin=$line"
            echo "file=$PGPASSFILE"
            stat -c 'mode=%a' "$PGPASSFILE"
            stat -c 'dir=%a' "$(dirname "$PGPASSFILE")"
            echo "content=$(cat "$PGPASSFILE")"
            tr '\0' '\n' < /proc/$$/environ
            """;
        var source = new ProcessSource(new ProcessCommand
        {
            FileName = "sh",
            Arguments = ["-c", script],
            SecretFiles = new Dictionary<string, string> { ["PGPASSFILE"] = secret },
            StandardInput = secret,
        });

        var pipe = new Pipe();
        await source.WriteToAsync(pipe.Writer, CancellationToken.None);
        await pipe.Writer.CompleteAsync();
        var lines = Encoding.UTF8.GetString((await ReadAllAsync(pipe.Reader)).ToArray()).Split('\n');

        lines.ShouldContain("stdin=" + secret);
        lines.ShouldContain("content=" + secret);
        lines.ShouldContain("mode=600");
        lines.ShouldContain("dir=700");
        var environment = lines.SkipWhile(l => !l.StartsWith("content=", StringComparison.Ordinal)).Skip(1).ToList();
        environment.ShouldNotBeEmpty();
        environment.ShouldAllBe(l => !l.Contains("7f3e"));
        var file = lines.Single(l => l.StartsWith("file=", StringComparison.Ordinal))["file=".Length..];
        File.Exists(file).ShouldBeFalse("the secret file is removed once the tool has exited");
        Directory.Exists(Path.GetDirectoryName(file)).ShouldBeFalse();
    }

    private static async Task<MemoryStream> ReadAllAsync(PipeReader reader)
    {
        var buffer = new MemoryStream();
        await reader.CopyToAsync(buffer);
        return buffer;
    }

    public void Dispose() => _directory.Dispose();
}
