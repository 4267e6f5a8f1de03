using Steward.Backup.Storage;
using Steward.Backup.Storage.FileSystem;
using Steward.Backup.Tests.Infrastructure;

namespace Steward.Backup.Tests.Storage;

public sealed class FileSystemStorageTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly FileSystemStorage _storage;

    public FileSystemStorageTests() =>
        _storage = new FileSystemStorage(new FileSystemStorageOptions { RootDirectory = _directory.File("store") });

    [Theory]
    [InlineData("../escape")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    [InlineData("a//b")]
    [InlineData("a/./b")]
    [InlineData(".hidden")]
    [InlineData("a\\b")]
    [InlineData("")]
    public async Task Keys_with_path_tricks_are_rejected(string key)
    {
        StorageKey.IsValid(key).ShouldBeFalse();
        await Should.ThrowAsync<ArgumentException>(async () => await _storage.OpenWriteAsync(key, CancellationToken.None));
        File.Exists(Path.Combine(_directory.Path, "escape")).ShouldBeFalse();
    }

    [Fact]
    public async Task Object_is_invisible_until_completed_and_appears_atomically()
    {
        await using var writer = await _storage.OpenWriteAsync("inst/backup", CancellationToken.None);
        await writer.WriteAsync(new byte[1000], CancellationToken.None);

        (await _storage.ExistsAsync("inst/backup", CancellationToken.None)).ShouldBeFalse();
        (await Workflows.ListAsync(_storage)).ShouldBeEmpty();

        await writer.CompleteAsync(CancellationToken.None);

        (await Workflows.ListAsync(_storage)).Single().ShouldBe(
            new Steward.Backup.Pipeline.StorageObject("inst/backup", 1000, File.GetLastWriteTimeUtc(_directory.File("store/inst/backup"))));
    }

    [Fact]
    public async Task Disposing_an_uncompleted_writer_deletes_the_temporary_file()
    {
        await using (var writer = await _storage.OpenWriteAsync("inst/backup", CancellationToken.None))
        {
            await writer.WriteAsync(new byte[1000], CancellationToken.None);
        }

        Directory.EnumerateFiles(_directory.File("store"), "*", SearchOption.AllDirectories).ShouldBeEmpty();
    }

    public void Dispose() => _directory.Dispose();
}
