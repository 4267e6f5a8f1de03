using System.Runtime.InteropServices;

namespace Steward.Bench.Supervision;

/// <summary>kill(2) directly: the injection time is taken right after the syscall returns.</summary>
internal static partial class Signals
{
    public const int Kill = 9;
    public const int Stop = 19;

    /// <summary>Sends <paramref name="signal"/>; false when the process is already gone.</summary>
    public static bool Send(int pid, int signal) => KillCore(pid, signal) == 0;

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillCore(int pid, int signal);
}
