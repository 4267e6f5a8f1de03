using System.Runtime.InteropServices;

namespace Steward.Backup.Unpack;

/// <summary>The few libc calls .NET does not expose: ownership of files and directories, opened by descriptor.</summary>
internal static partial class UnpackNative
{
    public const int ReadOnly = 0;
    public const int Directory = 0x10000; // O_DIRECTORY
    public const int NoFollow = 0x20000; // O_NOFOLLOW
    public const int CloseOnExec = 0x80000; // O_CLOEXEC
    private const int EmptyPath = 0x1000; // AT_EMPTY_PATH
    private const uint StatxBasic = 0x7ff; // STATX_BASIC_STATS

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    public static partial int Close(int fd);

    [LibraryImport("libc", EntryPoint = "fchown", SetLastError = true)]
    public static partial int Fchown(nint fd, uint owner, uint group);

    [LibraryImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    public static partial int Fchmod(int fd, uint mode);

    [LibraryImport("libc", EntryPoint = "lchown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    public static partial int Lchown(string path, uint owner, uint group);

    /// <summary>SYNC_FILE_RANGE_WRITE: start writing the range's dirty pages back, without waiting for it.</summary>
    public const uint SyncFileRangeWrite = 2;

    [LibraryImport("libc", EntryPoint = "sync_file_range", SetLastError = true)]
    public static partial int SyncFileRange(nint fd, long offset, long count, uint flags);

    [LibraryImport("libc", EntryPoint = "geteuid")]
    public static partial uint Geteuid();

    [LibraryImport("libc", EntryPoint = "getegid")]
    public static partial uint Getegid();

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static unsafe partial int Statx(int dirfd, string path, int flags, uint mask, byte* buffer);

    /// <summary>Owner, group and permission bits of an open file (struct statx has the same layout on every architecture).</summary>
    public static unsafe (uint Uid, uint Gid, uint Mode) Stat(int fd)
    {
        var buffer = stackalloc byte[256];
        if (Statx(fd, "", EmptyPath, StatxBasic, buffer) != 0)
        {
            throw Error("statx");
        }

        return (*(uint*)(buffer + 20), *(uint*)(buffer + 24), *(ushort*)(buffer + 28) & 0xfffu);
    }

    public static IOException Error(string call, string? path = null) =>
        new($"{call}{(path is null ? "" : " " + path)} failed: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
}
