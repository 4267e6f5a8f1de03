using System.Diagnostics;

namespace Steward.Backup.Tests.Infrastructure;

/// <summary>Runs the stock command-line tools the formats must interoperate with.</summary>
internal static class Cli
{
    private const string InstallHint = "Install the interop tools with: apt-get install -y age zstd gzip tar";

    public sealed record Result(int ExitCode, byte[] Stdout, string Stderr);

    /// <summary>Fails (never skips) when a tool is missing, saying how to install it.</summary>
    public static string Require(string tool)
    {
        var path = Environment.GetEnvironmentVariable("PATH")!.Split(':')
            .Select(directory => System.IO.Path.Combine(directory, tool))
            .FirstOrDefault(File.Exists);
        return path ?? throw new InvalidOperationException($"The '{tool}' command is not installed. {InstallHint}");
    }

    public static async Task<Result> RunAsync(string tool, IEnumerable<string> arguments, byte[]? stdin = null)
    {
        var info = new ProcessStartInfo(Require(tool))
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using var process = Process.Start(info)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = new MemoryStream();
        var copyOut = process.StandardOutput.BaseStream.CopyToAsync(stdout, timeout.Token);
        var readErr = process.StandardError.ReadToEndAsync(timeout.Token);
        if (stdin is not null)
        {
            await process.StandardInput.BaseStream.WriteAsync(stdin, timeout.Token);
        }

        process.StandardInput.Close();
        await Task.WhenAll(copyOut, readErr);
        await process.WaitForExitAsync(timeout.Token);
        return new Result(process.ExitCode, stdout.ToArray(), await readErr);
    }

    public static async Task<byte[]> RunOkAsync(string tool, IEnumerable<string> arguments, byte[]? stdin = null)
    {
        var result = await RunAsync(tool, arguments, stdin);
        result.ExitCode.ShouldBe(0, $"{tool} failed: {result.Stderr}");
        return result.Stdout;
    }
}
