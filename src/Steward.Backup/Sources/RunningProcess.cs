using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Steward.Backup.Logging;
using Steward.Backup.Pipeline;
using Steward.Security;

namespace Steward.Backup.Sources;

/// <summary>A started <see cref="ProcessCommand"/> with its stderr being drained into a bounded tail.</summary>
internal sealed class RunningProcess : IAsyncDisposable
{
    private readonly ProcessCommand _command;
    private readonly ILogger _logger;
    private readonly LineTail _stderr;
    private readonly Task _stderrDrain;
    private readonly Task _stdoutDrain;
    private readonly string? _secrets;

    private RunningProcess(ProcessCommand command, Process process, bool drainStdout, string? secrets, ILogger logger)
    {
        _command = command;
        _secrets = secrets;
        _logger = logger;
        Process = process;
        _stderr = new LineTail(command.StderrTailLines, command.OnStderrLine);
        _stderrDrain = _stderr.DrainAsync(process.StandardError);
        _stdoutDrain = drainStdout ? _stderr.DrainAsync(process.StandardOutput) : Task.CompletedTask;
    }

    public Process Process { get; }

    public static RunningProcess Start(ProcessCommand command, bool forSink, ILogger logger)
    {
        var stdin = !forSink && command.StandardInput is not null;
        var (secrets, paths) = WriteSecretFiles(command);
        var process = new Process { StartInfo = command.ToStartInfo(redirectInput: forSink || stdin, paths) };
        try
        {
            process.Start();
        }
        catch (Exception ex) when (ex is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            process.Dispose();
            DeleteSecretFiles(secrets);
            throw new BackupException(forSink ? "sink_failed" : "source_failed",
                $"Could not start '{command.FileName}' for stage '{command.StageName}': {ex.Message}", ex);
        }

        LogMessages.ProcessStarted(logger, command.StageName, command.FileName, process.Id);
        if (stdin)
        {
            // A few bytes fit the pipe's buffer: written and closed before the tool reads them.
            process.StandardInput.WriteLine(command.StandardInput);
            process.StandardInput.Close();
        }

        return new RunningProcess(command, process, drainStdout: forSink, secrets, logger);
    }

    private static (string? Directory, IReadOnlyDictionary<string, string?>? Paths) WriteSecretFiles(ProcessCommand command)
    {
        if (command.SecretFiles.Count == 0)
        {
            return (null, null);
        }

        // The directory has mode 0700; SecretFile writes each file 0600 from its first byte.
        var directory = SecretDirectory.Create();
        var paths = new Dictionary<string, string?>();
        try
        {
            foreach (var (variable, value) in command.SecretFiles)
            {
                var path = Path.Combine(directory, variable.ToLowerInvariant());
                SecretFile.Write(path, value);
                paths[variable] = path;
            }
        }
        catch
        {
            DeleteSecretFiles(directory);
            throw;
        }

        return (directory, paths);
    }

    private static void DeleteSecretFiles(string? directory)
    {
        if (directory is not null && Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    public void Kill()
    {
        try
        {
            Process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }

    /// <summary>Waits for the exit and throws a <see cref="BackupException"/> if it was not a clean zero exit.</summary>
    public async ValueTask WaitForSuccessAsync(string code, CancellationToken cancellationToken)
    {
        await Process.WaitForExitAsync(cancellationToken).ConfigureAwait(false);
        await Task.WhenAll(_stderrDrain, _stdoutDrain).ConfigureAwait(false);
        cancellationToken.ThrowIfCancellationRequested();
        LogMessages.ProcessExited(_logger, _command.StageName, Process.ExitCode);
        if (Process.ExitCode != 0)
        {
            throw Failure(code, $"exited with code {Process.ExitCode}{SignalHint(Process.ExitCode)}");
        }
    }

    /// <summary>A failure naming the stage and quoting the stderr tail; never the arguments' secrets or the environment.</summary>
    public BackupException Failure(string code, string what)
    {
        var tail = _stderr.ToString();
        var message = $"Stage '{_command.StageName}' ({_command.FileName}) {what}."
            + (tail.Length > 0 ? $" Last output lines:\n{tail}" : " It wrote nothing to stderr.");
        return new BackupException(code, message);
    }

    // .NET reports a process killed by signal N as exit code 128 + N on Unix.
    private static string SignalHint(int exitCode) => exitCode is > 128 and < 160 ? $" (killed by signal {exitCode - 128})" : string.Empty;

    public async ValueTask DisposeAsync()
    {
        if (!Process.HasExited)
        {
            Kill();
            await Process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
        }

        try
        {
            await Task.WhenAll(_stderrDrain, _stdoutDrain).ConfigureAwait(false);
        }
        catch (IOException)
        {
            // The output pipes of a killed process may break; only the tail is lost.
        }

        Process.Dispose();
        DeleteSecretFiles(_secrets);
    }
}
