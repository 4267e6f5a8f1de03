using System.Diagnostics;
using Steward.Runtime;

namespace Steward.Backup.Sources;

/// <summary>
/// A command run by <see cref="ProcessSource"/> or <see cref="ProcessSink"/>. Secrets go in <see cref="SecretFiles"/>
/// (a password file the tool reads, such as <c>PGPASSFILE</c>) or <see cref="StandardInput"/> (<c>redis-cli --askpass</c>),
/// never in <see cref="Arguments"/>, which every user of the host can read, nor in <see cref="Environment"/>, which
/// stays in the process's <c>/proc/&lt;pid&gt;/environ</c> and is inherited by whatever it starts.
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

    /// <summary>
    /// Secrets the process reads from a file: each variable is set to the path of a file holding its value, created
    /// private to the broker's user (mode 0600 in a fresh 0700 directory) before the start and removed once the
    /// process has exited. The process must run as the broker's user to read them.
    /// </summary>
    public IReadOnlyDictionary<string, string> SecretFiles { get; init; } = new Dictionary<string, string>();

    /// <summary>Text written to a source's stdin, which is then closed (for a tool that reads its password there);
    /// <c>null</c> leaves stdin alone. A sink's stdin is the stream, so it has none.</summary>
    public string? StandardInput { get; init; }

    /// <summary>Working directory; the current one when <c>null</c>.</summary>
    public string? WorkingDirectory { get; init; }

    /// <summary>Stage name in results and logs; defaults to the file name.</summary>
    public string? Name { get; init; }

    /// <summary>Called with every stderr line as it arrives (for example to read the WAL positions <c>pg_basebackup -v</c> reports).</summary>
    public Action<string>? OnStderrLine { get; init; }

    /// <summary>How many trailing stderr lines a failure message quotes. Default 20.</summary>
    public int StderrTailLines { get; init; } = 20;

    internal string StageName => Name ?? Path.GetFileName(FileName);

    internal ProcessStartInfo ToStartInfo(bool redirectInput, IReadOnlyDictionary<string, string?>? secretPaths = null)
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
        var environment = secretPaths is { Count: > 0 } ? new Dictionary<string, string?>(Environment.Concat(secretPaths)) : Environment;
        return ChildEnvironment.Apply(info, environment);
    }
}
