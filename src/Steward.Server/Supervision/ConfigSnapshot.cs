using Steward.Runtime;

namespace Steward.Server.Supervision;

/// <summary>
/// Keeps a copy of an instance's configuration from its last healthy start beside it (in its run directory, where the
/// runtime keeps it: on Kubernetes in the pod's volume), so an incident can say what changed since the server last
/// worked.
/// </summary>
internal static class ConfigSnapshot
{
    private static string SnapshotDir(InstancePaths paths) => Path.Combine(paths.RunDir, "last-healthy-config");

    public static Task TakeAsync(IInstanceRuntime runtime, InstancePaths paths, CancellationToken cancellationToken) =>
        runtime.CopyFilesAsync(paths.ConfigDir, SnapshotDir(paths), cancellationToken);

    /// <summary>Lines added (+) and removed (-) per configuration file since the snapshot; empty when nothing changed or no snapshot exists.</summary>
    public static IReadOnlyList<string> Diff(IInstanceRuntime runtime, InstancePaths paths)
    {
        var snapshot = runtime.ReadFiles(SnapshotDir(paths));
        var config = snapshot.Count == 0 ? snapshot : runtime.ReadFiles(paths.ConfigDir);
        if (config.Count == 0)
        {
            return [];
        }

        var changes = new List<string>();
        foreach (var name in config.Keys.Concat(snapshot.Keys).Distinct().Order(StringComparer.Ordinal))
        {
            // ACL files hold password hashes: report that they changed, never their lines.
            var secret = name.EndsWith(".acl", StringComparison.Ordinal);
            var now = Lines(config, name);
            var before = Lines(snapshot, name);
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

    private static List<string> Lines(IReadOnlyDictionary<string, string> files, string name) =>
        files.TryGetValue(name, out var text) ? text.Split('\n').Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0 && !l.TrimStart().StartsWith('#')).ToList() : [];
}
