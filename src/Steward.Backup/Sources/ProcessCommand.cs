using System.Diagnostics;
using Steward.Runtime;

namespace Steward.Backup.Sources;

/// <summary>
/// A command run by <see cref="ProcessSource"/> or <see cref="ProcessSink"/>. Secrets go in
/// <see cref="Environment"/> (for example <c>PGPASSWORD</c>), never in <see cref="Arguments"/>: arguments are visible
/// to every user of the host. Environment values never appear in messages or logs.
/// </summary>
public sealed record ProcessCommand
{
    /// <summary>Program to run (resolved through <c>PATH</c>).</summary>
    public required string FileName { get; init; }

    /// <summary>Arguments, passed without a shell.</summary>
    public IReadOnlyList<string> Arguments { get; init; } = [];

    /// <summary>Variables the process gets beside <see cref="ChildEnvironment"/>'s base (a <c>null</c> value leaves one
    /// out). Nothing of the calling process's environment is inherited.</summary>
    public IReadOnlyDictionary<string, string?> Environment { get; init; } = new Dictionary<string, string?>();

    /// <summary>Working directory; the current one when <c>null</c>.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Stage name in results and logs; defaults to the file name.</summary>
    public string? Name { get; init; }

    /// <summary>Called with every stderr line as it arrives (for example to read the WAL positions <c>pg_basebackup -v</c> reports).</summary>
    public Action<string>? OnStderrLine { get; init; }

    /// <summary>How many trailing stderr lines a failure message quotes. Default 20.</summary>
    public int StderrTailLines { get; init; } = 20;

    internal string StageName => Name ?? Path.GetFileName(FileName);

    internal ProcessStartInfo ToStartInfo(bool redirectInput)
    {
        var info = new ProcessStartInfo(FileName)
        {
            RedirectStandardInput = redirectInput,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = WorkingDirectory ?? string.Empty,
        };
        foreach (var argument in Arguments)
        {
            info.ArgumentList.Add(argument);
        }

        // An explicit environment, never the broker's: its credentials and the storage keys stay out of the tool.
        return ChildEnvironment.Apply(info, Environment);
    }
}
