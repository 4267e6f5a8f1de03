using System.Runtime.InteropServices;

namespace Steward.Runtime.Local;

/// <summary>The few libc calls .NET does not expose.</summary>
internal static partial class Native
{
    [LibraryImport("libc", EntryPoint = "chown", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int ChownCore(string path, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillCore(int pid, int signal);

    public static void Chown(string path, uint uid, uint gid)
    {
        if (ChownCore(path, uid, gid) != 0)
        {
            throw new IOException($"chown {path} failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    /// <summary>Sends a signal; false when the process does not exist.</summary>
    public static bool Kill(int pid, int signal) => KillCore(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "syscall", SetLastError = true)]
    private static partial long SyscallCore(long number, long arg1, long arg2);

    [LibraryImport("libc", EntryPoint = "epoll_create1", SetLastError = true)]
    private static partial int EpollCreate1(int flags);

    [LibraryImport("libc", EntryPoint = "epoll_ctl", SetLastError = true)]
    private static unsafe partial int EpollCtlCore(int epfd, int op, int fd, byte* ev);

    [LibraryImport("libc", EntryPoint = "epoll_wait", SetLastError = true)]
    private static unsafe partial int EpollWaitCore(int epfd, byte* events, int maxEvents, int timeout);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int CloseCore(int fd);

    /// <summary>A pidfd for the process (close-on-exec), or -1 when the kernel has none to give (before 5.3) or it does not exist.</summary>
    public static int PidfdOpen(int pid)
    {
        // pidfd_open is 434 on every architecture .NET runs on (the syscall table was unified from 424 on); glibc
        // wraps it only since 2.36.
        const long PidfdOpenSyscall = 434;
        return (int)SyscallCore(PidfdOpenSyscall, pid, 0);
    }

    /// <summary>A new epoll instance (close-on-exec), or -1.</summary>
    public static int EpollCreate() => EpollCreate1(0x80000);

    public static unsafe int EpollCtl(int epoll, int op, int fd, ReadOnlySpan<byte> ev)
    {
        fixed (byte* p = ev)
        {
            return EpollCtlCore(epoll, op, fd, p);
        }
    }

    /// <summary>Waits for events without a timeout; the number written, 0 when interrupted by a signal, -1 on another error.</summary>
    public static unsafe int EpollWait(int epoll, byte[] events, int max)
    {
        const int EINTR = 4;
        fixed (byte* p = events)
        {
            var n = EpollWaitCore(epoll, p, max, -1);
            return n >= 0 ? n : Marshal.GetLastPInvokeError() == EINTR ? 0 : -1;
        }
    }

    public static void Close(int fd) => CloseCore(fd);
}
