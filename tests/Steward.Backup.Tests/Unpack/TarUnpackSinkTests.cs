using System.Formats.Tar;
using Steward.Backup.Pipeline;
using Steward.Backup.Sources;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;
using Steward.Backup.Unpack;

namespace Steward.Backup.Tests.Unpack;

public sealed class TarUnpackSinkTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FileSystemStorage _storage;

    public TarUnpackSinkTests() =>
        _storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });

    [Theory]
    [InlineData("gnu")]
    [InlineData("pax")]
    [InlineData("ustar")]
    public async Task A_tar_of_a_directory_tree_unpacks_with_the_same_files_modes_and_times(string format)
    {
        var original = Directory.CreateDirectory(_directory.File("original")).FullName;
        var deep = Path.Combine(original, "base", new string('d', 60), new string('e', 60));
        Directory.CreateDirectory(deep);
        await File.WriteAllBytesAsync(Path.Combine(original, "base", "16384"), TestData.Random(3_000_001));
        await File.WriteAllBytesAsync(Path.Combine(deep, "long-name-" + new string('f', 80)), TestData.Mixed(70_000));
        await File.WriteAllBytesAsync(Path.Combine(original, "empty"), []);
        await File.WriteAllTextAsync(Path.Combine(original, "PG_VERSION"), "15\n");
        File.SetUnixFileMode(Path.Combine(original, "PG_VERSION"), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        File.SetLastWriteTimeUtc(Path.Combine(original, "PG_VERSION"), new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc));
        Directory.CreateDirectory(Path.Combine(original, "pg_notify"));
        var target = Directory.CreateDirectory(_directory.File("target")).FullName;

        var key = await BackupAsync(new ProcessSource(new ProcessCommand { FileName = "tar", Arguments = ["-c", "--format=" + format, "-C", original, "."] }));
        var result = await RestoreAsync(key, target);

        result.Succeeded.ShouldBeTrue(result.Failure?.Message);
        foreach (var file in Directory.EnumerateFiles(original, "*", SearchOption.AllDirectories))
        {
            var copy = Path.Combine(target, Path.GetRelativePath(original, file));
            (await File.ReadAllBytesAsync(copy)).ShouldBe(await File.ReadAllBytesAsync(file), copy);
            File.GetUnixFileMode(copy).ShouldBe(File.GetUnixFileMode(file), copy);
        }

        Directory.Exists(Path.Combine(target, "pg_notify")).ShouldBeTrue();
        File.GetLastWriteTimeUtc(Path.Combine(target, "PG_VERSION")).ShouldBe(new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc));
    }

    [Fact]
    public async Task Files_belong_to_the_owner_of_the_directory_they_are_unpacked_into()
    {
        var target = Directory.CreateDirectory(_directory.File("target")).FullName;
        File.SetUnixFileMode(_directory.Path, (UnixFileMode)0b111_101_101);
        await Cli.RunOkAsync("chown", ["65534:65534", target]);
        var key = await BackupAsync(new BytesSource(await ArchiveAsync(w =>
        {
            w.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "global"));
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "global/pg_control") { DataStream = new MemoryStream(TestData.Random(8192)) });
        })));

        var result = await RestoreAsync(key, target);

        result.Succeeded.ShouldBeTrue(result.Failure?.Message);
        var owners = await Cli.RunOkAsync("stat", ["-c", "%u:%g %a", target, Path.Combine(target, "global"), Path.Combine(target, "global", "pg_control")]);
        System.Text.Encoding.UTF8.GetString(owners).Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => line.Split(' ')[0]).ShouldAllBe(owner => owner == "65534:65534");
    }

    [Theory]
    [InlineData("../escaped")]
    [InlineData("base/../../escaped")]
    [InlineData("/tmp/escaped")]
    public async Task An_entry_leaving_the_directory_is_refused_and_nothing_is_written_outside(string name)
    {
        var target = Directory.CreateDirectory(_directory.File("target")).FullName;
        var key = await BackupAsync(new BytesSource(await ArchiveAsync(w =>
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream([1, 2, 3]) }))));

        var result = await RestoreAsync(key, target);

        result.Failure.ShouldNotBeNull();
        result.Failure.Code.ShouldBe("archive_invalid");
        result.Failure.Message.ShouldContain(name);
        File.Exists(_directory.File("escaped")).ShouldBeFalse();
        File.Exists("/tmp/escaped").ShouldBeFalse();
    }

    [Theory]
    [InlineData(TarEntryType.SymbolicLink)]
    [InlineData(TarEntryType.HardLink)]
    public async Task Links_are_refused(TarEntryType type)
    {
        var target = Directory.CreateDirectory(_directory.File("target")).FullName;
        var key = await BackupAsync(new BytesSource(await ArchiveAsync(w =>
            w.WriteEntry(new PaxTarEntry(type, "pg_wal") { LinkName = "/etc" }))));

        var result = await RestoreAsync(key, target);

        result.Failure!.Code.ShouldBe("archive_invalid");
        result.Failure.Message.ShouldContain("link");
        Directory.EnumerateFileSystemEntries(target).ShouldBeEmpty();
    }

    [Fact]
    public async Task A_damaged_backup_fails_as_an_integrity_error_not_as_a_broken_archive()
    {
        var original = Directory.CreateDirectory(_directory.File("original")).FullName;
        for (var i = 0; i < 20; i++)
        {
            await File.WriteAllBytesAsync(Path.Combine(original, $"file{i}"), TestData.Mixed(100_000 + i));
        }

        var key = await BackupAsync(new ProcessSource(new ProcessCommand { FileName = "tar", Arguments = ["-c", "-C", original, "."] }), "zstd");
        var path = Path.Combine(_directory.File("store"), key);
        var bytes = await File.ReadAllBytesAsync(path);
        bytes[bytes.Length / 3] ^= 0x10;
        await File.WriteAllBytesAsync(path, bytes);

        var result = await RestoreAsync(key, Directory.CreateDirectory(_directory.File("target")).FullName);

        result.Failure!.Kind.ShouldBe(StageKind.Integrity, result.Failure.Message);
    }

    [Fact]
    public async Task A_verified_stream_that_is_not_a_tar_archive_fails_as_archive_invalid()
    {
        var key = await BackupAsync(new BytesSource(TestData.Random(100_000)));

        var result = await RestoreAsync(key, Directory.CreateDirectory(_directory.File("target")).FullName);

        result.Failure!.Stage.ShouldBe("unpack");
        result.Failure.Code.ShouldBe("archive_invalid");
    }

    [Fact]
    public async Task A_directory_that_is_not_empty_is_refused_and_left_as_it_was()
    {
        var target = Directory.CreateDirectory(_directory.File("target")).FullName;
        await File.WriteAllTextAsync(Path.Combine(target, "PG_VERSION"), "live\n");
        var key = await BackupAsync(new BytesSource(await ArchiveAsync(w =>
            w.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "PG_VERSION") { DataStream = new MemoryStream("15\n"u8.ToArray()) }))));

        var result = await RestoreAsync(key, target);

        result.Failure!.Stage.ShouldBe("unpack");
        result.Failure.Message.ShouldContain("not empty");
        (await File.ReadAllTextAsync(Path.Combine(target, "PG_VERSION"))).ShouldBe("live\n");
    }

    private static async Task<byte[]> ArchiveAsync(Action<TarWriter> write)
    {
        using var stream = new MemoryStream();
        await using (var writer = new TarWriter(stream, TarEntryFormat.Pax, leaveOpen: true))
        {
            write(writer);
        }

        return stream.ToArray();
    }

    private async Task<string> BackupAsync(IBackupSource source, string chain = "zstd")
    {
        var backup = await Workflows.Backup(source, _storage, chain).RunAsync(Workflows.Request());
        backup.Succeeded.ShouldBeTrue(backup.Failure?.Message);
        return backup.Key;
    }

    private Task<PipelineResult> RestoreAsync(string key, string target) =>
        new RestorePipelineBuilder().UseStorage(_storage).UseTarUnpackSink(target).Build().RunAsync(new RestoreRequest(key));

    public void Dispose() => _directory.Dispose();
}
