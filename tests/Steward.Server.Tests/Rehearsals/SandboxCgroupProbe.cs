namespace Steward.Server.Tests.Rehearsals;

/// <summary>What the kernel says about a process's cgroups: /proc/&lt;pid&gt;/cgroup and the limit files of its groups.</summary>
internal static class SandboxCgroupProbe
{
    public const string Root = "/sys/fs/cgroup";

    public static bool Unified => File.Exists(Path.Combine(Root, "cgroup.controllers"));

    /// <summary>Whether this machine lets the broker (root) make cgroups: then every sandbox gets one.</summary>
    public static bool Available =>
        Environment.UserName == "root" && (Unified || File.Exists(Path.Combine(Root, "cpu", "cgroup.procs"))) && !ReadOnly();

    /// <summary>The directories of the groups the process is in, for the controllers a sandbox is limited by.</summary>
    public static IReadOnlyDictionary<string, string> Groups(int pid)
    {
        var groups = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines($"/proc/{pid}/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (Unified && parts[0] == "0")
            {
                groups["unified"] = Root + parts[2];
            }

            foreach (var controller in parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries).Where(c => c is "cpu" or "blkio" or "memory"))
            {
                groups[controller] = Path.Combine(Root, controller) + parts[2];
            }
        }

        return groups;
    }

    public static string? Read(string dir, string file) => File.Exists(Path.Combine(dir, file)) ? File.ReadAllText(Path.Combine(dir, file)).Trim() : null;

    private static bool ReadOnly() =>
        File.ReadAllLines("/proc/self/mountinfo").Select(l => l.Split(' ')).Any(f => f.Length > 5 && (f[4] == Root || f[4] == Root + "/cpu") && f[5].Split(',').Contains("ro"));
}
