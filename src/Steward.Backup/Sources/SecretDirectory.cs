using System.Globalization;

namespace Steward.Backup.Sources;

/// <summary>
/// The private temporary directories that hand a child tool its password files
/// (<see cref="ProcessCommand.SecretFiles"/>). Each is named after the broker's process id, so that the directories
/// a broker killed with SIGKILL left behind can be told from those of a broker still running on the same machine
/// and removed at the next start.
/// </summary>
public static class SecretDirectory
{
    private const string Prefix = "steward-secret-";

    /// <summary>Creates an empty directory with mode 0700 (<see cref="Directory.CreateTempSubdirectory(string?)"/>).</summary>
    public static string Create() => Directory.CreateTempSubdirectory($"{Prefix}{Environment.ProcessId}-").FullName;

    /// <summary>Removes the secret directories of processes that no longer run; returns how many it removed.</summary>
    /// <param name="root">Where they are made: the temporary directory unless a test says otherwise.</param>
    /// <param name="isRunning">Whether a process id is alive: <c>/proc/{pid}</c> exists unless a test says otherwise.</param>
    public static int SweepOrphans(string? root = null, Func<int, bool>? isRunning = null)
    {
        root ??= Path.GetTempPath();
        isRunning ??= pid => Directory.Exists($"/proc/{pid}");
        var removed = 0;
        foreach (var directory in Directory.EnumerateDirectories(root, Prefix + "*"))
        {
            var rest = Path.GetFileName(directory)[Prefix.Length..];
            var dash = rest.IndexOf('-', StringComparison.Ordinal);

            // A name without an owner's id (made before owners were named) cannot belong to a running process's current work.
            if (dash > 0 && int.TryParse(rest.AsSpan(0, dash), NumberStyles.None, CultureInfo.InvariantCulture, out var pid) && isRunning(pid))
            {
                continue;
            }

            try
            {
                Directory.Delete(directory, recursive: true);
                removed++;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Gone meanwhile or not ours to remove: left for the owner.
            }
        }

        return removed;
    }
}
