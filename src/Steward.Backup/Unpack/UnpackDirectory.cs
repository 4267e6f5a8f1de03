using Microsoft.Win32.SafeHandles;

namespace Steward.Backup.Unpack;

/// <summary>
/// The empty directory an archive is unpacked into, held open by descriptor and reached through
/// <c>/proc/self/fd/N</c>, so a path swapped for a symbolic link after it was opened cannot redirect a single write.
/// A privileged broker takes the directory over (root, mode 0700) while it writes, so the service user, who owns it,
/// cannot plant links inside it either; every file and directory created is given to that owner, and the directory
/// itself is given back when unpacking ends.
/// </summary>
internal sealed class UnpackDirectory : IDisposable
{
    private readonly int _fd;
    private readonly uint _uid;
    private readonly uint _gid;
    private readonly uint _mode;
    private readonly bool _takenOver;

    private UnpackDirectory(string path, int fd, (uint Uid, uint Gid, uint Mode) owner, bool takenOver)
    {
        Path = path;
        _fd = fd;
        (_uid, _gid, _mode) = owner;
        _takenOver = takenOver;
        Root = $"/proc/self/fd/{fd}";
    }

    /// <summary>The directory as the caller named it (for messages).</summary>
    public string Path { get; }

    /// <summary>The directory as reached through its descriptor; every path written starts here.</summary>
    public string Root { get; }

    /// <summary>Opens (and, when privileged, takes over) an empty directory; with <paramref name="mayHoldFiles"/>, one
    /// that earlier unpacks into it filled (the links of an incremental backup's chain).</summary>
    public static UnpackDirectory Open(string path, bool mayHoldFiles = false)
    {
        var fd = UnpackNative.Open(path, UnpackNative.ReadOnly | UnpackNative.Directory | UnpackNative.NoFollow | UnpackNative.CloseOnExec);
        if (fd < 0)
        {
            throw UnpackNative.Error("open", path);
        }

        try
        {
            var owner = UnpackNative.Stat(fd);
            var euid = UnpackNative.Geteuid();
            var takeOver = euid == 0 && (owner.Uid != 0 || owner.Gid != UnpackNative.Getegid());
            if (takeOver && (UnpackNative.Fchown(fd, 0, UnpackNative.Getegid()) != 0 || UnpackNative.Fchmod(fd, 0b111_000_000) != 0))
            {
                throw UnpackNative.Error("taking over", path);
            }

            if (!mayHoldFiles && Directory.EnumerateFileSystemEntries($"/proc/self/fd/{fd}").Any())
            {
                if (takeOver)
                {
                    _ = UnpackNative.Fchown(fd, owner.Uid, owner.Gid);
                    _ = UnpackNative.Fchmod(fd, owner.Mode);
                }

                throw new IOException($"{path} is not empty; an archive is only unpacked into an empty directory.");
            }

            return new UnpackDirectory(path, fd, owner, takeOver);
        }
        catch
        {
            _ = UnpackNative.Close(fd);
            throw;
        }
    }

    /// <summary>Gives a file just created to the directory's owner.</summary>
    public void Own(SafeFileHandle file, string relative)
    {
        if (_takenOver && UnpackNative.Fchown(file.DangerousGetHandle(), _uid, _gid) != 0)
        {
            throw UnpackNative.Error("chown", System.IO.Path.Combine(Path, relative));
        }
    }

    /// <summary>Gives a directory just created to the directory's owner.</summary>
    public void Own(string relative)
    {
        if (_takenOver && UnpackNative.Lchown(System.IO.Path.Combine(Root, relative), _uid, _gid) != 0)
        {
            throw UnpackNative.Error("chown", System.IO.Path.Combine(Path, relative));
        }
    }

    /// <summary>Gives the directory back to its owner with its mode, and closes it.</summary>
    public void Dispose()
    {
        if (_takenOver)
        {
            _ = UnpackNative.Fchown(_fd, _uid, _gid);
            _ = UnpackNative.Fchmod(_fd, _mode);
        }

        _ = UnpackNative.Close(_fd);
    }
}
