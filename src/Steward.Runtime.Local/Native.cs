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
}
