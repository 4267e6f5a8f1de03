using System.Runtime.InteropServices;

namespace Steward.Runtime.Local;

/// <summary>
/// An exclusive advisory lock (<c>flock</c>) on a file that every process on the host can take, Steward's
/// brokers and <c>flock(1)</c> in its scripts alike. Released on dispose, or by the kernel when the holder dies.
/// </summary>
internal sealed partial class HostLock : IDisposable
{
    /// <summary>Serializes creation of system accounts; <c>scripts/install-deps.sh</c> takes it too.</summary>
    public const string AccountsPath = "/run/lock/steward-accounts.lock";

    private const int ReadWrite = 2;
    private const int Create = 0x40;
    private const int CloseOnExec = 0x80000;
    private const int Exclusive = 2;
    private const int EINTR = 4;

    private int _fd;

    private HostLock(int fd) => _fd = fd;

    /// <summary>Blocks until the lock on <paramref name="path"/> is held.</summary>
    public static HostLock Acquire(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var fd = Open(path, ReadWrite | Create | CloseOnExec, 0b110_000_000);
        if (fd < 0)
        {
            throw new IOException($"cannot open lock file {path}: errno {Marshal.GetLastPInvokeError()}");
        }

        while (Flock(fd, Exclusive) != 0)
        {
            var errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                _ = Close(fd);
                throw new IOException($"cannot lock {path}: errno {errno}");
            }
        }

        return new HostLock(fd);
    }

    public void Dispose()
    {
        // Closing the descriptor releases the lock.
        var fd = Interlocked.Exchange(ref _fd, -1);
        if (fd >= 0)
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int Open(string path, int flags, uint mode);

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(int fd, int operation);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
