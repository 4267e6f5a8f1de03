using Steward.Runtime;

namespace Steward.Server.Supervision;

/// <summary>
/// Keeps a copy of an instance's configuration from its last healthy start, so an incident can say what
/// changed since the server last worked.
/// </summary>
internal static class ConfigSnapshot
{
    private static string SnapshotDir(InstancePaths paths) => Path.Combine(paths.RunDir, "last-healthy-config");

    public static void Take(InstancePaths paths)
    {
        // The configuration lives where the broker can read it only with the local runtime (on Kubernetes it is in
        // the pod's volume): there is nothing to keep a copy of otherwise.
        if (!Directory.Exists(paths.ConfigDir))
        {
            return;
        }

        var target = SnapshotDir(paths);
        Directory.CreateDirectory(target);
        foreach (var file in Directory.GetFiles(paths.ConfigDir))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)), overwrite: true);
        }
    }

    /// <summary>Lines added (+) and removed (-) per configuration file since the snapshot; empty when nothing changed or no snapshot exists.</summary>
    public static IReadOnlyList<string> Diff(InstancePaths paths)
    {
        var snapshot = SnapshotDir(paths);
        if (!Directory.Exists(snapshot) || !Directory.Exists(paths.ConfigDir))
        {
            return [];
        }

        var changes = new List<string>();
        var names = Directory.GetFiles(paths.ConfigDir).Concat(Directory.GetFiles(snapshot)).Select(Path.GetFileName).Distinct().Order(StringComparer.Ordinal);
        foreach (var name in names)
        {
            // ACL files hold password hashes: report that they changed, never their lines.
            var secret = name!.EndsWith(".acl", StringComparison.Ordinal);
            var now = Lines(Path.Combine(paths.ConfigDir, name));
            var before = Lines(Path.Combine(snapshot, name));
            var added = now.Except(before).ToList();
            var removed = before.Except(now).ToList();
            if (secret && (added.Count > 0 || removed.Count > 0))
            {
                changes.Add($"{name}: changed ({added.Count} lines added, {removed.Count} removed)");
                continue;
            }

            changes.AddRange(removed.Select(l => $"{name}: - {l}"));
            changes.AddRange(added.Select(l => $"{name}: + {l}"));
        }

        return changes;
    }

    private static List<string> Lines(string path) =>
        File.Exists(path) ? File.ReadAllLines(path).Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).ToList() : [];
}
