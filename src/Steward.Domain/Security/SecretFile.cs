using System.Text;

namespace Steward.Security;

/// <summary>
/// Writes files that hold secrets (credentials, keys, password files). Each is created under a temporary name
/// with mode 0600 from its first byte (<see cref="FileStreamOptions.UnixCreateMode"/>, <see cref="FileMode.CreateNew"/>),
/// never with the umask and chmod-ed afterwards, flushed to disk, and only then renamed into place, so no other
/// local user can open it at any moment and no reader sees half a file.
/// </summary>
public static class SecretFile
{
    /// <summary>Read and write for the owner only.</summary>
    public const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite;

    /// <summary>Creates or replaces <paramref name="path"/>. <paramref name="prepare"/> runs on the temporary file before
    /// the rename (for example to hand it to another owner).</summary>
    public static void Write(string path, string content, Action<string>? prepare = null)
    {
        var temp = WriteTemporary(path, Encoding.UTF8.GetBytes(content));
        try
        {
            prepare?.Invoke(temp);
            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            File.Delete(temp);
            throw;
        }
    }

    /// <summary>Creates <paramref name="path"/> unless it exists. Returns false, leaving the existing file as it is,
    /// when it exists already or another process created it first.</summary>
    public static bool TryCreate(string path, string content) => TryCreate(path, Encoding.UTF8.GetBytes(content));

    /// <inheritdoc cref="TryCreate(string, string)"/>
    public static bool TryCreate(string path, ReadOnlySpan<byte> content)
    {
        if (File.Exists(path))
        {
            return false;
        }

        var temp = WriteTemporary(path, content);
        try
        {
            // Without overwrite the move links the new name and fails if it exists: of two creators, one wins.
            File.Move(temp, path, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
        finally
        {
            File.Delete(temp);
        }
    }

    private static string WriteTemporary(string path, ReadOnlySpan<byte> content)
    {
        var full = Path.GetFullPath(path);
        var temp = Path.Combine(Path.GetDirectoryName(full)!, $".{Path.GetFileName(full)}.{Secrets.Token(8)}.tmp");
        using var stream = new FileStream(temp, new FileStreamOptions
        {
            Mode = FileMode.CreateNew,
            Access = FileAccess.Write,
            Share = FileShare.None,
            UnixCreateMode = OwnerOnly,
        });
        stream.Write(content);
        stream.Flush(flushToDisk: true);
        return temp;
    }
}
