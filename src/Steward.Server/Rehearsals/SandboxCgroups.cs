using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Steward.Server.Configuration;

namespace Steward.Server.Rehearsals;

/// <summary>
/// A cgroup per rehearsal sandbox, with <see cref="SandboxLimitsOptions"/>' CPU and IO weights and memory ceiling.
/// The hierarchy is found at run time: cgroup v2 (unified, <c>/sys/fs/cgroup/cgroup.controllers</c>): one group
/// <c>steward-&lt;broker&gt;/&lt;sandbox&gt;</c> under the root with <c>cpu.weight</c>, <c>io.weight</c>, <c>memory.max</c>;
/// cgroup v1: the same path under the broker's own group in each of the <c>cpu</c>, <c>blkio</c> and <c>memory</c>
/// hierarchies with <c>cpu.shares</c>, <c>blkio.weight</c>, <c>memory.limit_in_bytes</c>. Only where the broker may
/// create groups (root); elsewhere the sandbox runs with nice/ionice only and the report says why. The broker's part
/// (<c>steward-&lt;hash of its data directory&gt;</c>) is its own: brokers sharing a machine never touch each other's.
/// </summary>
internal sealed partial class SandboxCgroups
{
    private const string Root = "/sys/fs/cgroup";
    private readonly SandboxLimitsOptions _limits;
    private readonly ILogger<SandboxCgroups> _logger;
    private readonly string _brokerGroup;
    private readonly Lock _lock = new();
    private readonly TimeProvider _time;

    public SandboxCgroups(IOptions<SandboxLimitsOptions> limits, StewardOptions options, TimeProvider time, ILogger<SandboxCgroups> logger)
    {
        _time = time;
        _limits = limits.Value;
        _logger = logger;
        _brokerGroup = "steward-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(Path.GetFullPath(options.DataDir))))[..12];
    }

    /// <summary>Creates the sandbox's group with the configured limits; a group that could not be made says why.</summary>
    public SandboxCgroup Create(string sandbox)
    {
        if (!_limits.Enabled)
        {
            return SandboxCgroup.None("none: STEWARD_REHEARSAL_CGROUPS is off (nice/ionice only)");
        }

        lock (_lock)
        {
            try
            {
                return File.Exists(Path.Combine(Root, "cgroup.controllers")) ? CreateV2(sandbox) : CreateV1(sandbox);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                LogUnavailable(_logger, sandbox, ex.Message);
                return SandboxCgroup.None($"none: no writable cgroup hierarchy ({ex.Message}); nice/ionice only");
            }
        }
    }

    /// <summary>Removes the group: its processes (the sandbox's, already stopped) are killed first, then the directories.</summary>
    public async Task RemoveAsync(SandboxCgroup group)
    {
        foreach (var dir in group.Directories)
        {
            await RemoveDirectoryAsync(dir);
        }

        lock (_lock)
        {
            foreach (var parent in group.Directories.Select(Path.GetDirectoryName).Distinct())
            {
                TryRemoveEmpty(parent!);
            }
        }
    }

    /// <summary>
    /// At the broker's start no rehearsal runs: every group left in the broker's part (a broker killed mid-rehearsal)
    /// is an orphan. Its processes are killed and it is removed.
    /// </summary>
    public async Task<int> RemoveOrphansAsync()
    {
        var removed = 0;
        foreach (var parent in BrokerDirectories().Where(Directory.Exists))
        {
            foreach (var dir in Directory.EnumerateDirectories(parent))
            {
                await RemoveDirectoryAsync(dir);
                LogOrphanRemoved(_logger, dir);
                removed++;
            }

            TryRemoveEmpty(parent);
        }

        return removed;
    }

    private SandboxCgroup CreateV2(string sandbox)
    {
        var parent = Path.Combine(Root, _brokerGroup);
        var wanted = new[] { "cpu", "io", "memory" };
        var available = File.ReadAllText(Path.Combine(Root, "cgroup.controllers")).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var controllers = wanted.Where(available.Contains).ToList();
        Enable(Root, controllers);
        Directory.CreateDirectory(parent);
        Enable(parent, controllers);
        var dir = Path.Combine(parent, sandbox);
        Directory.CreateDirectory(dir);
        var applied = new Dictionary<string, string>();
        var missing = new List<string>();
        Apply(dir, "cpu.weight", _limits.CpuWeight.ToString(CultureInfo.InvariantCulture), applied, missing);
        Apply(dir, "io.weight", _limits.IoWeight.ToString(CultureInfo.InvariantCulture), applied, missing);
        if (_limits.MemoryMb > 0)
        {
            Apply(dir, "memory.max", ((long)_limits.MemoryMb * 1024 * 1024).ToString(CultureInfo.InvariantCulture), applied, missing);
        }

        return new SandboxCgroup(2, [dir], [Path.Combine(dir, "cgroup.procs")], applied, missing);
    }

    private SandboxCgroup CreateV1(string sandbox)
    {
        var own = OwnGroups();
        var dirs = new List<string>();
        var procs = new List<string>();
        var applied = new Dictionary<string, string>();
        var missing = new List<string>();
        var settings = new (string Controller, string File, string? Value)[]
        {
            ("cpu", "cpu.shares", (_limits.CpuWeight * 1024L / 100).ToString(CultureInfo.InvariantCulture)),
            ("blkio", "blkio.weight", Math.Clamp(_limits.IoWeight * 5, 10, 1000).ToString(CultureInfo.InvariantCulture)),
            ("memory", "memory.limit_in_bytes", _limits.MemoryMb > 0 ? ((long)_limits.MemoryMb * 1024 * 1024).ToString(CultureInfo.InvariantCulture) : null),
        };
        foreach (var (controller, file, value) in settings)
        {
            var hierarchy = Path.Combine(Root, controller);
            if (!File.Exists(Path.Combine(hierarchy, "cgroup.procs")) || !own.TryGetValue(controller, out var path))
            {
                missing.Add($"{controller} (no cgroup v1 {controller} hierarchy)");
                continue;
            }

            var dir = Path.Combine(hierarchy + path, _brokerGroup, sandbox);
            try
            {
                Directory.CreateDirectory(dir);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Not writable after all: leave nothing half made.
                dirs.ForEach(d => TryRemoveEmpty(d));
                throw;
            }

            dirs.Add(dir);
            procs.Add(Path.Combine(dir, "cgroup.procs"));
            if (value is not null)
            {
                Apply(dir, file, value, applied, missing);
            }
        }

        if (dirs.Count == 0)
        {
            throw new IOException("no cgroup v1 cpu, blkio or memory hierarchy under " + Root);
        }

        return new SandboxCgroup(1, dirs, procs, applied, missing);
    }

    private static void Apply(string dir, string file, string value, Dictionary<string, string> applied, List<string> missing)
    {
        var path = Path.Combine(dir, file);
        if (!File.Exists(path))
        {
            missing.Add($"{file} (not offered here{(file.StartsWith("blkio", StringComparison.Ordinal) || file.StartsWith("io", StringComparison.Ordinal) ? ": the IO scheduler has no weights" : string.Empty)})");
            return;
        }

        try
        {
            File.WriteAllText(path, value);
            applied[file] = value;
        }
        catch (IOException ex)
        {
            missing.Add($"{file} ({ex.Message})");
        }
    }

    private static void Enable(string dir, IEnumerable<string> controllers)
    {
        var control = Path.Combine(dir, "cgroup.subtree_control");
        var enabled = File.ReadAllText(control).Split(' ', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (var c in controllers.Where(c => !enabled.Contains(c)))
        {
            File.WriteAllText(control, "+" + c);
        }
    }

    /// <summary>The broker's own group in each v1 hierarchy, from /proc/self/cgroup (<c>4:memory:/path</c>).</summary>
    private static Dictionary<string, string> OwnGroups()
    {
        var groups = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in File.ReadAllLines("/proc/self/cgroup"))
        {
            var parts = line.Split(':', 3);
            if (parts.Length == 3)
            {
                foreach (var controller in parts[1].Split(',', StringSplitOptions.RemoveEmptyEntries))
                {
                    groups[controller] = parts[2] == "/" ? string.Empty : parts[2];
                }
            }
        }

        return groups;
    }

    private IEnumerable<string> BrokerDirectories()
    {
        if (File.Exists(Path.Combine(Root, "cgroup.controllers")))
        {
            return [Path.Combine(Root, _brokerGroup)];
        }

        IReadOnlyDictionary<string, string> own;
        try
        {
            own = OwnGroups();
        }
        catch (IOException)
        {
            return [];
        }

        return new[] { "cpu", "blkio", "memory" }.Where(own.ContainsKey).Select(c => Path.Combine(Root + "/" + c + own[c], _brokerGroup));
    }

    private async Task RemoveDirectoryAsync(string dir)
    {
        var started = _time.GetTimestamp();
        while (Directory.Exists(dir))
        {
            try
            {
                foreach (var pid in Processes(dir))
                {
                    Kill(pid);
                }

                Directory.Delete(dir);
                return;
            }
            catch (IOException) when (_time.GetElapsedTime(started) < TimeSpan.FromSeconds(10))
            {
                // Busy until the killed processes are gone.
                await Task.Delay(TimeSpan.FromMilliseconds(50), _time);
            }
        }
    }

    private static void Kill(int pid)
    {
        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            process.Kill();
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            // Already gone.
        }
    }

    private static IEnumerable<int> Processes(string dir)
    {
        var procs = Path.Combine(dir, "cgroup.procs");
        return File.Exists(procs)
            ? File.ReadAllLines(procs).Select(l => int.TryParse(l, CultureInfo.InvariantCulture, out var pid) ? pid : 0).Where(p => p > 0).ToList()
            : [];
    }

    private static void TryRemoveEmpty(string dir)
    {
        try
        {
            if (Directory.Exists(dir) && !Directory.EnumerateDirectories(dir).Any())
            {
                Directory.Delete(dir);
            }
        }
        catch (IOException)
        {
            // Another sandbox's group appeared meanwhile, or processes are still leaving: removed later.
        }
    }

    [LoggerMessage(EventId = 9106, Level = LogLevel.Information, Message = "Rehearsal sandbox {Sandbox} runs without a cgroup: {Reason}")]
    private static partial void LogUnavailable(ILogger logger, string sandbox, string reason);

    [LoggerMessage(EventId = 9107, Level = LogLevel.Warning, Message = "Removed the orphan rehearsal cgroup {Directory} (its broker was killed during the rehearsal)")]
    private static partial void LogOrphanRemoved(ILogger logger, string directory);
}

/// <summary>One sandbox's cgroup (possibly none): where it is, what it limits, and what could not be limited.</summary>
internal sealed record SandboxCgroup(int Version, IReadOnlyList<string> Directories, IReadOnlyList<string> ProcFiles, IReadOnlyDictionary<string, string> Applied, IReadOnlyList<string> NotApplied)
{
    private string? _none;

    public static SandboxCgroup None(string reason) => new(0, [], [], new Dictionary<string, string>(), []) { _none = reason };

    /// <summary>
    /// Moves a started server and every process it has forked so far into the group; what they fork later is born
    /// in it. Repeated until a pass finds nothing left outside, so a process forked during the move is not missed.
    /// </summary>
    public void Place(int pid)
    {
        if (ProcFiles.Count == 0)
        {
            return;
        }

        var placed = new HashSet<int>();
        for (var pass = 0; pass < 10; pass++)
        {
            var family = Family(pid).Where(placed.Add).ToList();
            if (family.Count == 0)
            {
                return;
            }

            foreach (var member in family)
            {
                foreach (var procs in ProcFiles)
                {
                    try
                    {
                        File.WriteAllText(procs, member.ToString(CultureInfo.InvariantCulture));
                    }
                    catch (IOException)
                    {
                        // The process already exited.
                    }
                }
            }
        }
    }

    /// <summary>For the report: which hierarchy and limits applied, or why none.</summary>
    public string Describe() => _none ?? string.Create(CultureInfo.InvariantCulture,
        $"cgroup v{Version} {string.Join(", ", Directories)}: {string.Join(", ", Applied.Select(a => $"{a.Key} {a.Value}"))}{(NotApplied.Count > 0 ? "; not applied: " + string.Join(", ", NotApplied) : string.Empty)}");

    /// <summary>The process and its descendants, parents before children.</summary>
    private static List<int> Family(int root)
    {
        var children = new Dictionary<int, List<int>>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(dir), CultureInfo.InvariantCulture, out var pid))
            {
                try
                {
                    var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                    var ppid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture);
                    (children.TryGetValue(ppid, out var list) ? list : children[ppid] = []).Add(pid);
                }
                catch (Exception ex) when (ex is IOException or FormatException or UnauthorizedAccessException)
                {
                    // Gone meanwhile.
                }
            }
        }

        var family = new List<int> { root };
        for (var i = 0; i < family.Count; i++)
        {
            if (children.TryGetValue(family[i], out var kids))
            {
                family.AddRange(kids);
            }
        }

        return family;
    }
}
