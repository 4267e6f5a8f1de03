using System.Diagnostics;
using System.Text.RegularExpressions;

namespace Steward.Server.Tests.CommandLine;

/// <summary>Runs the real <c>steward</c> CLI as a child process, the way a person or a script does.</summary>
internal static partial class Cli
{
    private static readonly string CliDll = Path.Combine(AppContext.BaseDirectory, "steward.dll");

    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}; stdout: {Stdout}; stderr: {Stderr}";
    }

    /// <summary>
    /// Runs the CLI with standard output redirected (as in <c>steward list | grep</c>). <paramref name="environment"/>
    /// entries replace the inherited ones; a null value removes one. <paramref name="stdin"/> is written to its input.
    /// </summary>
    public static async Task<Result> RunAsync(IReadOnlyDictionary<string, string?> environment, string? stdin, params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        info.ArgumentList.Add(CliDll);
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return await RunAsync(info, environment, stdin);
    }

    /// <summary>
    /// Runs the CLI on a real pseudo-terminal <paramref name="columns"/> wide (through util-linux <c>script</c>), as a
    /// person at a narrow or wide terminal sees it; the output is returned without terminal escape sequences.
    /// </summary>
    public static async Task<Result> RunOnTerminalAsync(IReadOnlyDictionary<string, string?> environment, int columns, params string[] arguments)
    {
        var command = $"stty cols {columns} rows 200; exec dotnet {Quote(CliDll)} {string.Join(' ', arguments.Select(Quote))}";
        var info = new ProcessStartInfo("script") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var argument in new[] { "--quiet", "--return", "--command", command, "/dev/null" })
        {
            info.ArgumentList.Add(argument);
        }

        info.Environment["TERM"] = "xterm";
        info.Environment.Remove("COLUMNS");
        var result = await RunAsync(info, environment, stdin: null);
        return result with { Stdout = Escapes().Replace(result.Stdout, string.Empty).Replace("\r", string.Empty, StringComparison.Ordinal) };
    }

    private static async Task<Result> RunAsync(ProcessStartInfo info, IReadOnlyDictionary<string, string?> environment, string? stdin)
    {
        foreach (var (name, value) in environment)
        {
            if (value is null)
            {
                info.Environment.Remove(name);
            }
            else
            {
                info.Environment[name] = value;
            }
        }

        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        if (stdin is not null)
        {
            await process.StandardInput.WriteAsync(stdin);
        }

        process.StandardInput.Close();
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, await stdout, await stderr);
    }

    private static string Quote(string s) => "'" + s.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    [GeneratedRegex(@"\x1b(\[[0-9;?]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")]
    private static partial Regex Escapes();
}
