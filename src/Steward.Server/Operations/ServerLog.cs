using System.Text;
using Steward.Runtime;

namespace Steward.Server.Operations;

/// <summary>Reads the end of an instance's server log, for failure descriptions.</summary>
internal static class ServerLog
{
    public static string Tail(InstancePaths paths, int lines = 3)
    {
        try
        {
            using var stream = File.OpenRead(paths.LogFile);
            stream.Seek(Math.Max(0, stream.Length - 4096), SeekOrigin.Begin);
            using var reader = new StreamReader(stream, Encoding.UTF8);
            var text = reader.ReadToEnd();
            return string.Join(" | ", text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).TakeLast(lines));
        }
        catch (IOException)
        {
            return "(no server log)";
        }
    }

    public static string Describe(ProcessStatus status) => status switch
    {
        ProcessStatus.Running r => $"running as pid {r.Pid}",
        ProcessStatus.Exited { Signal: { } s, OomKilled: true } => $"killed by signal {s} (the kernel's OOM killer)",
        ProcessStatus.Exited { Signal: { } s } => $"killed by signal {s}",
        ProcessStatus.Exited { ExitCode: { } c } => $"exited with code {c}",
        ProcessStatus.Exited => "ended with unknown status",
        _ => "not running",
    };
}
