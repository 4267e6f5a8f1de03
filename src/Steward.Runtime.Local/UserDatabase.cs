using System.Runtime.InteropServices;

namespace Steward.Runtime.Local;

/// <summary>
/// Looks accounts up through the C library's name service (<c>getpwnam_r</c>), so whatever the system's
/// <c>nsswitch.conf</c> says is honoured (files, LDAP, systemd's dynamic users), never by parsing <c>/etc/passwd</c>.
/// </summary>
internal static partial class UserDatabase
{
    private const int ERANGE = 34;

    /// <summary>The account's uid and gid, or null when the name service knows no such user.</summary>
    public static (uint Uid, uint Gid)? Find(string name)
    {
        for (var size = 4096; ; size *= 4)
        {
            var buffer = new byte[size];
            var rc = GetPwNamR(name, out var entry, buffer, (nuint)buffer.Length, out var result);
            if (rc == ERANGE && size < (1 << 22))
            {
                continue;
            }

            if (rc != 0)
            {
                throw new InvalidOperationException($"looking up user '{name}' failed: errno {rc}");
            }

            return result == 0 ? null : (entry.Uid, entry.Gid);
        }
    }

    [LibraryImport("libc", EntryPoint = "getpwnam_r", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int GetPwNamR(string name, out Passwd entry, Span<byte> buffer, nuint bufferLength, out nint result);

    // struct passwd of glibc on 64-bit Linux.
    [StructLayout(LayoutKind.Sequential)]
    private struct Passwd
    {
        public nint Name;
        public nint Password;
        public uint Uid;
        public uint Gid;
        public nint Gecos;
        public nint Home;
        public nint Shell;
    }
}
