using Steward.Security;

namespace Steward.Domain.Tests.Security;

/// <summary>A secret file is 0600 before it has its name and is replaced in one step: no reader ever sees it open
/// to others or half written.</summary>
public sealed class SecretFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("secretfile-").FullName;

    [Fact]
    public void The_content_is_owner_only_before_the_file_has_its_name_and_the_old_file_stays_whole_until_the_rename()
    {
        var path = Path.Combine(_dir, "broker-credentials");
        File.WriteAllText(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        string? seen = null;
        SecretFile.Write(path, "new-secret", temp =>
        {
            seen = temp;
            File.GetUnixFileMode(temp).ShouldBe(SecretFile.OwnerOnly, "the temporary file is readable by others before the rename");
            File.ReadAllText(temp).ShouldBe("new-secret");
            File.ReadAllText(path).ShouldBe("old", "the file was changed in place before the rename");
        });

        seen.ShouldNotBeNull();
        Path.GetDirectoryName(seen).ShouldBe(_dir, "the temporary file must be on the same file system for an atomic rename");
        File.Exists(seen).ShouldBeFalse();
        File.ReadAllText(path).ShouldBe("new-secret");
        File.GetUnixFileMode(path).ShouldBe(SecretFile.OwnerOnly);
    }

    [Fact]
    public void A_failing_preparation_leaves_the_old_file_and_no_temporary_file()
    {
        var path = Path.Combine(_dir, "identity");
        File.WriteAllText(path, "old");
        Should.Throw<InvalidOperationException>(() => SecretFile.Write(path, "new", _ => throw new InvalidOperationException("chown failed")));
        File.ReadAllText(path).ShouldBe("old");
        Directory.GetFiles(_dir).ShouldBe([path]);
    }

    [Fact]
    public void Of_many_creators_at_once_exactly_one_wins_and_an_existing_file_is_left_alone()
    {
        var path = Path.Combine(_dir, "credentials.key");
        var won = new bool[16];
        Parallel.For(0, won.Length, i => won[i] = SecretFile.TryCreate(path, $"key-{i}"));
        won.Count(w => w).ShouldBe(1);
        File.ReadAllText(path).ShouldBe($"key-{Array.IndexOf(won, true)}");
        File.GetUnixFileMode(path).ShouldBe(SecretFile.OwnerOnly);
        Directory.GetFiles(_dir).ShouldBe([path], "temporary files are left behind");

        SecretFile.TryCreate(path, "other").ShouldBeFalse();
        File.ReadAllText(path).ShouldBe($"key-{Array.IndexOf(won, true)}");
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
